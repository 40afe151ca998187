// Helpers for the relying-party tests: the upstream provider process (provider.mjs), a
// cookie-keeping "browser" that follows redirects and form_post pages the way a browser does,
// HTML form parsing, and Gatehouse's admin API.
//
// Needs GATEHOUSE_URL (default http://127.0.0.1:8080) and GATEHOUSE_ADMIN_PASSWORD.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { adminApi, adminCall, adminToken } from '../support/admin-api.mjs';
import { decodeEntities, pageText, parseForms } from '../support/html.mjs';

export { adminApi, adminCall, adminToken, decodeEntities, pageText, parseForms };

export const GATEHOUSE = (process.env.GATEHOUSE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const ADMIN_USERNAME = process.env.GATEHOUSE_ADMIN_USERNAME || 'admin';
export const ADMIN_PASSWORD = process.env.GATEHOUSE_ADMIN_PASSWORD;
export const CALLBACK = `${GATEHOUSE}/callback`;

/** A name no other test run uses. */
export function uniqueId(prefix = 'rp') {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

// ---------------------------------------------------------------------------------------
// The upstream provider

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Starts provider.mjs on a free loopback port; resolves when it prints READY.
 * Returns { profile, issuer, origin, clients, stop(), and the test hooks }.
 */
export async function startProvider(profile, { tenant, callback = CALLBACK } = {}) {
  const args = [join(here, 'provider.mjs'), '--profile', profile, '--port', '0'];
  if (tenant) args.push('--tenant', tenant);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, GATEHOUSE_CALLBACK: callback, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (process.env.UPSTREAM_DEBUG) process.stderr.write(chunk);
  });
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise((resolve, reject) => {
    let issuer;
    const timer = setTimeout(() => {
      // A provider that hangs must not keep this test process (and the suite) alive.
      child.kill('SIGKILL');
      reject(new Error(`provider ${profile} did not start in 20 s: ${stderr}`));
    }, 20_000);
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) issuer = line.slice(6).trim();
      if (line.startsWith('CLIENTS ')) {
        clearTimeout(timer);
        resolve({ issuer, clients: JSON.parse(line.slice(8)) });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`provider ${profile} exited with ${code} before READY: ${stderr}`));
    });
  });
  const { issuer, clients } = await ready;
  const origin = new URL(issuer).origin;

  const hook = async (method, path, body) => {
    const res = await fetch(`${origin}/__test${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status === 404 && path === '/last-authorization') return null;
    if (res.status !== 200) throw new Error(`provider hook ${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };

  return {
    profile,
    issuer,
    origin,
    clients,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    tenant: profile === 'entra' ? (tenant ?? 'ae2d240f-abc1-def2-ghi3-jklmnop45678') : undefined,
    process: child,
    stderr: () => stderr,
    rotateKeys: (options = {}) => hook('POST', '/rotate-keys', options),
    lastAuthorization: () => hook('GET', '/last-authorization'),
    authorizations: () => hook('GET', '/authorizations'),
    account: (email) => hook('GET', `/accounts/${encodeURIComponent(email)}`),
    setAccount: (email, data) => hook('POST', `/accounts/${encodeURIComponent(email)}`, data),
    tamper: (mode) => hook('POST', '/tamper', { mode }),
    info: () => hook('GET', '/info'),
    reset: () => hook('POST', '/reset'),
    frontChannelLogouts: () => hook('GET', '/front-channel-logouts'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

// ---------------------------------------------------------------------------------------
// HTML

/** The value of `<input name=NAME>` anywhere in the page, or undefined. */
export function inputValue(html, name) {
  for (const form of parseForms(html)) {
    const input = form.inputs.find((i) => i.name === name);
    if (input) return input.value;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// A browser without a browser

function siteOf(url) {
  // Production puts the provider on another site (login.microsoftonline.com, *.okta.com);
  // here everything is 127.0.0.1, so the origin (with the port) stands for the site.
  return new URL(url).origin;
}

/**
 * A cookie jar with a browser's rules for Path, Max-Age/Expires and SameSite (host-only:
 * cookies are per host, not per port, as in browsers), and navigation that follows 30x
 * redirects and auto-submits form_post pages. Everything seen is kept in `history`.
 */
export class Browser {
  cookies = [];
  history = [];

  setCookies(url, response) {
    const { hostname, pathname } = new URL(url);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributeParts] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const attrs = {};
      for (const part of attributeParts) {
        const [k, ...v] = part.split('=');
        attrs[k.trim().toLowerCase()] = v.join('=').trim();
      }
      const defaultPath = pathname.lastIndexOf('/') > 0 ? pathname.slice(0, pathname.lastIndexOf('/')) : '/';
      const path = attrs.path?.startsWith('/') ? attrs.path : defaultPath;
      let expires;
      if (attrs['max-age'] !== undefined) expires = Date.now() + Number(attrs['max-age']) * 1000;
      else if (attrs.expires) expires = Date.parse(attrs.expires);
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.host === hostname && c.path === path));
      if (expires !== undefined && expires <= Date.now()) continue;
      const sameSite = (attrs.samesite || 'lax').toLowerCase();
      // Browsers drop SameSite=None cookies that are not Secure (they accept Secure on loopback http).
      if (sameSite === 'none' && !('secure' in attrs)) continue;
      this.cookies.push({
        name,
        value,
        host: hostname,
        path,
        expires,
        sameSite,
        httpOnly: 'httponly' in attrs,
        secure: 'secure' in attrs,
      });
    }
  }

  cookieHeader(url, { crossSite = false, method = 'GET' } = {}) {
    const { hostname, pathname } = new URL(url);
    const now = Date.now();
    this.cookies = this.cookies.filter((c) => c.expires === undefined || c.expires > now);
    return this.cookies
      .filter((c) => c.host === hostname)
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .filter((c) => {
        if (!crossSite) return true;
        if (c.sameSite === 'strict') return false;
        if (c.sameSite === 'lax') return method === 'GET';
        return true;
      })
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  cookie(name, host = new URL(GATEHOUSE).hostname) {
    return this.cookies.find((c) => c.name === name && c.host === host)?.value;
  }

  /** One request, no redirects followed. `initiator` is the origin of the page that caused it. */
  async request(url, { method = 'GET', form, headers = {}, initiator, crossSite } = {}) {
    const target = new URL(url);
    const cross = crossSite ?? (initiator !== undefined && initiator !== siteOf(target));
    const body = form === undefined ? undefined : new URLSearchParams(form).toString();
    const requestHeaders = {
      accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
      ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      ...(method !== 'GET' && method !== 'HEAD' ? { origin: initiator ?? target.origin } : {}),
      ...headers,
    };
    const cookie = this.cookieHeader(target, { crossSite: cross, method });
    if (cookie) requestHeaders.cookie = cookie;
    const response = await fetch(target, { method, body, headers: requestHeaders, redirect: 'manual' });
    this.setCookies(target, response);
    const text = await response.text();
    const entry = {
      method,
      url: target.href,
      status: response.status,
      location: response.headers.get('location') ?? undefined,
      headers: response.headers,
      text,
    };
    this.history.push(entry);
    return entry;
  }

  /**
   * Navigates like a browser: follows redirects (303 turns into GET) and submits form_post
   * auto-submit pages, until a page that is not one of those. `stopAt(url)` ends the walk
   * before requesting a URL (e.g. a client app's redirect URI). Returns the last entry, with
   * `chain` (every entry of this navigation).
   */
  async navigate(url, { method = 'GET', form, initiator, stopAt, maxSteps = 25 } = {}) {
    const chain = [];
    let current = new URL(url, GATEHOUSE);
    let crossSite = initiator !== undefined && initiator !== siteOf(current);
    for (let step = 0; step < maxSteps; step += 1) {
      if (stopAt?.(current)) {
        const stopped = { method, url: current.href, status: 0, stopped: true, text: '', chain };
        return stopped;
      }
      const entry = await this.request(current, { method, form, initiator, crossSite });
      chain.push(entry);
      if ([301, 302, 303, 307, 308].includes(entry.status) && entry.location) {
        const next = new URL(entry.location, current);
        // A redirect chain that crossed sites stays cross-site (what browsers do for SameSite).
        crossSite = crossSite || siteOf(next) !== siteOf(current);
        if (entry.status === 303 || ((entry.status === 301 || entry.status === 302) && method === 'POST')) {
          method = 'GET';
          form = undefined;
        }
        current = next;
        continue;
      }
      // Gatehouse's "Continue signing in" page (a cross-site form_post without its SameSite=Lax
      // cookie over plain http): the person clicks Continue, a same-site POST.
      const autoSubmit = isAutoSubmit(entry.text) ?? continuePage(entry.text);
      if (autoSubmit) {
        const next = new URL(autoSubmit.action, current);
        initiator = siteOf(current);
        crossSite = initiator !== siteOf(next);
        method = 'POST';
        form = autoSubmit.fields;
        current = next;
        continue;
      }
      return { ...entry, chain };
    }
    throw new Error(`too many steps navigating from ${url}`);
  }

  /** Submits `form` (from parseForms) found on the page at `pageUrl`, with `values` merged in. */
  submit(pageUrl, form, values = {}, options = {}) {
    const action = new URL(form.action || pageUrl, pageUrl);
    const fields = { ...form.fields, ...values };
    if (form.method === 'post') {
      return this.navigate(action, { method: 'POST', form: fields, initiator: siteOf(pageUrl), ...options });
    }
    for (const [k, v] of Object.entries(fields)) action.searchParams.set(k, v);
    return this.navigate(action, { initiator: siteOf(pageUrl), ...options });
  }
}

/** Gatehouse's re-post step: one POST form to /callback behind a Continue button. */
function continuePage(html) {
  if (!/<h1>Continue signing in<\/h1>/.test(html)) return undefined;
  const forms = parseForms(html);
  if (forms.length !== 1 || forms[0].method !== 'post' || forms[0].action !== '/callback') return undefined;
  return forms[0];
}

/** A form_post response page (the provider's or Gatehouse's own): one POST form submitted by script. */
function isAutoSubmit(html) {
  if (!/<script\b[^>]*>[\s\S]*?\.submit\(\)/i.test(html) && !/onload="[^"]*submit\(\)/i.test(html)) return undefined;
  const forms = parseForms(html);
  if (forms.length !== 1 || forms[0].method !== 'post') return undefined;
  return forms[0];
}

// ---------------------------------------------------------------------------------------
// Gatehouse's admin API


/** POST /token with grant_type=password and `params`; returns { status, body }. */
export async function passwordGrant(params, { basic } = {}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64')}`;
  const res = await fetch(`${GATEHOUSE}/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ grant_type: 'password', ...params }),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { raw: text };
  }
  return { status: res.status, body };
}


export const ROLE_CLAIM = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';

/**
 * The OIDC settings for `provider` (from startProvider): Entra uses the tenant and the
 * provider's issuer as Authority URL; Okta the well-known URL, client secret and SysAdmin group.
 * `secret: false` (Entra only) leaves the client secret out: id_token + form_post.
 */
export function settingsFor(provider, overrides = {}) {
  const common = {
    mode: 'test',
    provider: provider.profile,
    name: provider.profile === 'entra' ? 'Example Entra ID' : 'Example Okta',
    authority_url: provider.issuer,
    external_claim_id: '',
    redirect_login_url: CALLBACK,
    login_hint: true,
    require_for: 'staff',
    claim_type: ROLE_CLAIM,
    forgot_email_body: 'Staff sign in at the staff site with your organisation account.',
  };
  const specific =
    provider.profile === 'entra'
      ? { client_id: 'entra-client', client_secret: 'entra-secret', tenant: provider.tenant, well_known_url: '', claim_value: 'iMIS_OIDC_Access' }
      : { client_id: 'okta-client', client_secret: 'okta-secret', well_known_url: provider.discoveryUrl, tenant: '', claim_value: 'SysAdmin' };
  const settings = { ...common, ...specific, ...overrides };
  if (settings.mode === 'enabled' && settings.confirm === undefined) settings.confirm = true;
  if (overrides.secret === false) {
    delete settings.secret;
    settings.client_secret = '';
  } else {
    delete settings.secret;
  }
  return settings;
}

/** PUT /admin/api/oidc-settings; throws with Gatehouse's message unless 2xx. */
export async function configure(provider, overrides = {}) {
  return adminApi('PUT', '/oidc-settings', settingsFor(provider, overrides));
}

/** Turns OIDC off (so other suites find password sign-in as usual). */
export async function disableOidc() {
  return adminCall('PUT', '/oidc-settings', { mode: 'disabled' });
}

/** A contact through the admin API; returns the created contact (with `password` added). */
export async function createContact({ username, email, first_name = 'Test', last_name = 'Person', is_staff = false, is_sysadmin = false, password = 'local-password-123', external_id, ...rest }) {
  const contact = await adminApi('POST', '/contacts', {
    username,
    email,
    first_name,
    last_name,
    is_staff,
    is_sysadmin,
    password,
    ...(external_id === undefined ? {} : { external_id }),
    ...rest,
  });
  return { ...contact, password };
}

/** Contacts whose fields match `search`. */
export async function findContacts(search) {
  return (await adminApi('GET', `/contacts?search=${encodeURIComponent(search)}`)).contacts;
}

/** OIDC log entries (newest first) matching the filter. */
export async function logs(filter = {}) {
  const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined));
  return adminApi('GET', `/logs?${query}`);
}
