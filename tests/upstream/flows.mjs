// The relying-party suites' shared steps: fixtures (provider accounts, local contacts) and
// what a person does in a browser (the email step, the provider's login form, /callback).

import assert from 'node:assert/strict';

import { Browser, GATEHOUSE, adminApi, createContact, pageText, parseForms, uniqueId } from './lib.mjs';

export const RUN = uniqueId('rp');

// ---------------------------------------------------------------------------------------
// Fixtures

let counter = 0;

/** A fresh number for names no other fixture of this run uses. */
export function nextNumber() {
  counter += 1;
  return counter;
}

/** A fresh account at `provider` (unique email); returns it with Gatehouse's link id. */
export async function providerAccount(provider, label, { staff = true, given_name = 'Pat', family_name = label, email } = {}) {
  counter += 1;
  const address = email ?? `${label}-${counter}-${RUN}@example.org`.toLowerCase();
  const account = await provider.setAccount(address, { staff, given_name, family_name });
  return { ...account, email: address, linkId: `${provider.issuer}|${account.sub}` };
}

/** A local contact linked to `account` (External ID = issuer|subject), with a password. */
export async function linkedContact(account, { staff = true, sysadmin = false, label = 'local' } = {}) {
  counter += 1;
  return createContact({
    username: `${label}-${counter}-${RUN}`,
    email: account.email,
    first_name: account.given_name,
    last_name: account.family_name,
    is_staff: staff || sysadmin,
    is_sysadmin: sysadmin,
    password: `pw-${RUN}-local`,
    external_id: account.linkId,
  });
}

export async function contactById(id) {
  return adminApi('GET', `/contacts/${id}`);
}

// ---------------------------------------------------------------------------------------
// Browser steps

/** The providers the browser steps recognise (their login pages are not Gatehouse's). */
const providers = new Set();

export function trackProvider(provider) {
  providers.add(provider);
  return provider;
}

export const isProvider = (url) => [...providers].some((p) => new URL(url).origin === p.origin);

export function formWith(html, name) {
  return parseForms(html).find((f) => f.inputs.some((i) => i.name === name));
}

/** The "Sign in with <provider name>" form of a Gatehouse page (not the password form). */
export function providerButtonForm(html) {
  return parseForms(html).find(
    (f) => !f.inputs.some((i) => i.type === 'password') && f.buttons.some((b) => /^sign in with /i.test(b.text) && !/password/i.test(b.text)),
  );
}

export const isClientError = (status) => status >= 400 && status < 500;

/** GET /signin; checks the email-only form; returns { page, form }. */
export async function emailPage(browser, { returnTo } = {}) {
  const path = returnTo === undefined ? '/signin' : `/signin?return_to=${encodeURIComponent(returnTo)}`;
  const page = await browser.navigate(`${GATEHOUSE}${path}`);
  assert.equal(page.status, 200, `GET ${path}: ${pageText(page.text).slice(0, 300)}`);
  const form = formWith(page.text, 'email');
  assert.ok(form, `the sign-in page has an email form: ${pageText(page.text).slice(0, 300)}`);
  assert.ok(!form.inputs.some((i) => i.type === 'password'), 'the first step shows no password field');
  assert.ok(form.fields.csrf_token, 'the email form carries csrf_token');
  assert.equal(browser.cookie('gatehouse_csrf'), form.fields.csrf_token, 'the CSRF token is also the gatehouse_csrf cookie');
  return { page, form };
}

/** Types the email and submits; returns where the browser ends (a Gatehouse page or the provider's login page). */
export async function submitEmail(browser, email, options = {}) {
  const { page, form } = await emailPage(browser, options);
  return browser.submit(page.url, form, { email });
}

/** On the provider's login page: signs in; returns where the browser ends. */
export async function providerLogin(browser, page, { login, password = 'password', stopAt } = {}) {
  assert.ok(isProvider(page.url), `expected the provider's login page, got ${page.status} ${page.url}: ${pageText(page.text).slice(0, 300)}`);
  const form = formWith(page.text, 'login');
  assert.ok(form, `the provider shows its login form: ${pageText(page.text).slice(0, 300)}`);
  const values = { password };
  if (login !== undefined) values.login = login;
  return browser.submit(page.url, form, values, { stopAt });
}

/** The /callback request(s) of a navigation. */
export function callbackEntries(result) {
  return result.chain.filter((e) => new URL(e.url).origin === new URL(GATEHOUSE).origin && new URL(e.url).pathname === '/callback');
}

/**
 * The whole sign-in through the provider: email step, (the "Sign in with" button when Gatehouse
 * offers a choice), the provider's login form, back through /callback.
 * Returns { final, callback, providerPage, choicePage }.
 */
export async function signInThroughProvider(browser, email, { returnTo, login, stopAt, expectChoice } = {}) {
  let page = await submitEmail(browser, email, { returnTo });
  let choicePage;
  if (!isProvider(page.url)) {
    const button = providerButtonForm(page.text);
    assert.ok(button, `Gatehouse offers "Sign in with …" after the email step: ${page.status} ${pageText(page.text).slice(0, 400)}`);
    choicePage = page;
    page = await browser.submit(page.url, button);
  }
  if (expectChoice !== undefined) assert.equal(!!choicePage, expectChoice, expectChoice ? 'a choice was offered' : 'went straight to the provider');
  const providerPage = page;
  const final = await providerLogin(browser, page, { login: login ?? email, stopAt });
  const callbacks = callbackEntries(final);
  return { final, callback: callbacks.at(-1), providerPage, choicePage };
}

/** Who the browser's Gatehouse session belongs to: { username, name } or null. */
export async function whoAmI(browser) {
  const page = await browser.request(`${GATEHOUSE}/account`);
  if (page.status !== 200) return null;
  const text = pageText(page.text);
  const m = text.match(/ as (.*?) \(([^()]*)\)\./);
  assert.ok(m, `the account page names the user: ${text.slice(0, 300)}`);
  return { name: m[1].trim(), username: m[2] };
}

/** Asserts the callback signed the browser in and sent it to `target`. */
export function assertSignedIn(result, target) {
  const { callback } = result;
  assert.ok(callback, `the flow came back to /callback: ${result.final.url} ${pageText(result.final.text).slice(0, 300)}`);
  assert.equal(callback.status, 303, `/callback answered ${callback.status}: ${pageText(callback.text).slice(0, 400)}`);
  assert.equal(callback.location, target, 'where /callback sends the browser');
  assert.ok(
    callback.headers.getSetCookie().some((c) => /^gatehouse_session=[^;]+/.test(c)),
    `/callback sets a session cookie: ${callback.headers.getSetCookie().join(' | ')}`,
  );
  // The page after /callback is reached through a redirect chain that started at the provider
  // (another site in production): the session cookie must still be sent there.
  const next = result.final.chain?.[result.final.chain.indexOf(callback) + 1];
  if (next) {
    assert.ok(
      !(next.status >= 300 && next.status < 400 && /^\/signin/.test(next.location ?? '')),
      `${next.url} sent the just-signed-in browser back to ${next.location}: is the session cookie SameSite=Strict?`,
    );
  }
}

/** Asserts the callback refused, with a page containing `text` (when given), and no session. */
export function assertRefused(result, text) {
  const { callback } = result;
  assert.ok(callback, `the flow came back to /callback: ${result.final.url}`);
  assert.ok(callback.status >= 400 && callback.status < 500, `/callback should refuse, answered ${callback.status} ${callback.location ?? ''}`);
  assert.ok(!callback.headers.getSetCookie().some((c) => /^gatehouse_session=[^;]+/.test(c)), 'no session cookie');
  if (text) assert.ok(pageText(callback.text).includes(text), `the page says "${text}": ${pageText(callback.text).slice(0, 500)}`);
}

/** Submits the password form of a Gatehouse page. */
export async function submitPassword(browser, page, password) {
  const form = parseForms(page.text).find((f) => f.inputs.some((i) => i.type === 'password'));
  assert.ok(form, `a password field is offered: ${pageText(page.text).slice(0, 300)}`);
  return browser.submit(page.url, form, { password });
}

