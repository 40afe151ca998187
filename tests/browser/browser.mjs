// Shared by the browser tests: Debian's Chromium driven by playwright-core, and small
// helpers for Gatehouse's server-rendered forms.
//
// Needs GATEHOUSE_URL (default http://127.0.0.1:8080) and, to sign in as the administrator,
// GATEHOUSE_ADMIN_PASSWORD. tests/support/chromium.sh installs /usr/bin/chromium.

import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import { adminApi, adminCall, adminToken } from '../support/admin-api.mjs';

export { adminApi, adminCall, adminToken };

export const BASE = (process.env.GATEHOUSE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const ADMIN_USERNAME = process.env.GATEHOUSE_ADMIN_USERNAME || 'admin';
export const ADMIN_PASSWORD = process.env.GATEHOUSE_ADMIN_PASSWORD;

/** tests/.work: screenshots and other output (gitignored). */
export const WORK_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '.work');

/** A headless Chromium; close it when done. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-quic',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

/** A new page in its own context (its own cookies), failing on any browser-side error. */
export async function newPage(browser, contextOptions = {}) {
  const context = await browser.newContext({ baseURL: BASE, viewport: { width: 1280, height: 900 }, ...contextOptions });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // The CSP forbids scripts and foreign styles; a violation shows up here. Error statuses
    // (422, 404, the favicon) are logged as failed loads: those are expected.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${m.text()}`);
    }
  });
  return { context, page, problems };
}

/**
 * Clicks a form's submit button and waits for the resulting page.
 * Returns the status of the POST itself (303 when it redirected) and of the page shown.
 */
export function submit(page, button) {
  return submitWith(page, () => button.click());
}

/** Like `submit`, with any action that submits a form (such as pressing Enter in a field). */
export async function submitWith(page, action) {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), action()]);
  if (!response) throw new Error('the form did not navigate');
  const first = response.request().redirectedFrom();
  const firstResponse = first ? await first.response() : response;
  return { status: firstResponse?.status(), pageStatus: response.status(), url: new URL(response.url()) };
}

/**
 * Signs in with the /signin form, as the administrator by default. A page already showing the
 * form (say with a `return_to`) is used as it is.
 */
export async function signIn(page, username = ADMIN_USERNAME, password = ADMIN_PASSWORD) {
  const button = await fillSignIn(page, username, password);
  const result = await submit(page, button);
  if (result.status !== 303) throw new Error(`sign-in answered ${result.status}`);
  return result;
}

/**
 * Fills the sign-in form up to its last button, which it returns unclicked. With OIDC on
 * (another test file may be trying it), that is the email step first, then the password.
 */
export async function fillSignIn(page, username = ADMIN_USERNAME, password = ADMIN_PASSWORD) {
  if (!password) throw new Error('GATEHOUSE_ADMIN_PASSWORD is not set');
  if (new URL(page.url()).pathname !== '/signin') await page.goto('/signin');
  const email = page.locator('form input[name=email]:not([type=hidden])');
  if (await email.count()) {
    // The first step takes an email or a username (the administrator may have no email).
    await email.fill(username);
    const step = await submit(page, page.getByRole('button', { name: 'Next' }));
    if (step.status !== 200) throw new Error(`the email step answered ${step.status}`);
    await page.getByLabel('Password').fill(password);
    return page.getByRole('button', { name: 'Sign in with password' });
  }
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(password);
  return page.getByRole('button', { name: 'Sign in' });
}


/** A suffix no other run uses, for names. */
export function uniqueSuffix() {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** The text of the page's main element, whitespace collapsed. */
export async function mainText(page) {
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's WCAG 2 A/AA violations on the page, as "rule: target" lines. Evaluated through the
 * DevTools protocol, which the page's Content-Security-Policy (no scripts) does not govern.
 */
export async function accessibilityViolations(page) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await globalThis.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  return violations;
}

/** "Wpx wide in Vpx" when the page is wider than its viewport (it scrolls sideways), else null. */
export async function overflow(page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  return scrollWidth > innerWidth ? `${scrollWidth}px wide in ${innerWidth}px` : null;
}

/** Saves a full-page screenshot under tests/.work and returns its path. */
export async function screenshot(page, name) {
  await mkdir(WORK_DIR, { recursive: true });
  const path = join(WORK_DIR, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}
