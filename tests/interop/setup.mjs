// Shared by the interoperability tests: fixtures made through Gatehouse's admin API, and a
// "browser" that drives the sign-in and consent forms over plain HTTP with a cookie jar.
//
// Needs GATEHOUSE_URL (default http://127.0.0.1:8080) and GATEHOUSE_ADMIN_PASSWORD.

import { createHash, createHmac, createPublicKey, randomBytes, timingSafeEqual, verify } from 'node:crypto';
import { adminApi, adminCall, adminToken } from '../support/admin-api.mjs';
import { pageText, parseForms } from '../support/html.mjs';

export { adminApi, adminCall, adminToken };

export const BASE = (process.env.GATEHOUSE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const ISSUER = BASE;
export const ADMIN_USERNAME = process.env.GATEHOUSE_ADMIN_USERNAME || 'admin';
export const ADMIN_PASSWORD = process.env.GATEHOUSE_ADMIN_PASSWORD;

/** A name no other test run uses. */
export function uniqueId(prefix = 'interop') {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

// ---------------------------------------------------------------------------------------
// Admin API


/**
 * Sets the organisation-wide ID token signing algorithm (HS512, ES256, EdDSA, RS256 or RS512).
 * This is global server state: tests that depend on it set it right before they need it.
 */
export async function setSigning(algorithm) {
  const view = await adminApi('PUT', '/signing', { algorithm });
  if (view.algorithm !== algorithm) throw new Error(`signing is ${view.algorithm}, not ${algorithm}`);
  return view;
}

export const MEMBER_PASSWORD = 'bob-password-123';

/**
 * Creates, under one unique name: a profile query and a role query, a member ("Bob Smith",
 * roles Staff and Volunteer, city Leeds) and a registration using them.
 *
 * options: grantTypes (["implicit", "password_confidential", "password_public"] subsets),
 * roleFormat ("array" | "csv"), idTokenFields, noAccessMapping, redirectUris,
 * idTokenHmacKey ("jwt_signing_key", the API default, | "client_secret"), postLogoutRedirectUris, backchannelLogoutUrl.
 */
export async function createFixture(options = {}) {
  const run = uniqueId(options.prefix ?? 'interop');
  const profileQuery = `$/Interop/${run}/ProfileData`;
  const roleQuery = `$/Interop/${run}/RoleData`;
  await adminApi('POST', '/queries', {
    path: profileQuery,
    kind: 'profile',
    columns: [
      { source: 'first_name', alias: 'given_name' },
      { source: 'last_name', alias: 'family_name' },
      { source: 'email', alias: 'email' },
      { source: 'status', alias: 'AccessRestrictionCode' },
      { source: 'attributes.city', alias: 'address.locality' },
    ],
  });
  await adminApi('POST', '/queries', {
    path: roleQuery,
    kind: 'role',
    columns: [{ source: 'roles', alias: 'Role' }],
  });
  const username = `bsmith-${run}`;
  const email = `${username}@example.org`;
  const contact = await adminApi('POST', '/contacts', {
    username,
    email,
    first_name: 'Bob',
    last_name: 'Smith',
    password: MEMBER_PASSWORD,
    roles: ['Staff', 'Volunteer'],
    attributes: { city: 'Leeds' },
    ...(options.status ? { status: options.status } : {}),
  });
  const redirectUris = options.redirectUris ?? [`http://127.0.0.1:9/${run}/callback`];
  const registration = await adminApi('POST', '/registrations', {
    name: `Interop App ${run}`,
    redirect_urls: redirectUris,
    ...(options.postLogoutRedirectUris ? { post_logout_redirect_urls: options.postLogoutRedirectUris } : {}),
    ...(options.backchannelLogoutUrl ? { backchannel_logout_url: options.backchannelLogoutUrl } : {}),
    profile_query: profileQuery,
    id_token_fields: options.idTokenFields ?? ['AccessRestrictionCode'],
    role_query: roleQuery,
    role_format: options.roleFormat ?? 'array',
    no_access_mapping: options.noAccessMapping ?? '',
    grant_types: options.grantTypes ?? [],
    ...(options.idTokenHmacKey ? { id_token_hmac_key: options.idTokenHmacKey } : {}),
  });
  return {
    run,
    profileQuery,
    roleQuery,
    member: { id: contact.id, username, email, password: MEMBER_PASSWORD },
    registration,
    clientId: registration.client_id,
    clientSecret: registration.client_secret,
    redirectUri: redirectUris[0],
    /** The registration's HS512 key (the admin API hides it while an RSA algorithm signs). */
    async signingKey() {
      if (registration.jwt_signing_key) return registration.jwt_signing_key;
      const current = await adminApi('GET', `/registrations/${registration.client_id}`);
      if (!current.jwt_signing_key) throw new Error('the admin API hides jwt_signing_key: is signing HS512?');
      return current.jwt_signing_key;
    },
  };
}

// ---------------------------------------------------------------------------------------
// A "browser" without a browser: cookies, manual redirects, HTML forms.

export class CookieJar {
  #cookies = new Map();

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const maxAge = attributes.map((a) => a.trim().toLowerCase()).find((a) => a.startsWith('max-age='));
      if (value === '' || (maxAge && Number(maxAge.slice(8)) <= 0)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header() {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(name) {
    return this.#cookies.get(name);
  }
}

/**
 * Walks a server's pages as a browser would: follows its redirects by hand with `jar` and, on
 * each HTML page, submits the form `answer(response, html)` picks ({ kind, action, fields };
 * nothing means an unexpected page). Stops at the first URL outside `origin` and returns
 * { location: URL, jar }. `pause(kind)`, when given, is awaited before each form is submitted
 * (tests/bench/ab.mjs measures the server's CPU between pauses).
 */
export async function browse(startUrl, { origin, jar = new CookieJar(), answer, pause }) {
  let url = new URL(startUrl);
  let method = 'GET';
  let body;
  for (let step = 0; step < 20; step += 1) {
    if (url.origin !== origin) return { location: url, jar };
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body,
    });
    jar.store(res);
    if ([301, 302, 303, 307].includes(res.status)) {
      const location = res.headers.get('location');
      if (!location) throw new Error(`${res.status} without Location from ${url}`);
      await res.arrayBuffer();
      url = new URL(location, url);
      if (res.status === 303 || method === 'GET') {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    const html = await res.text();
    const form = answer(res, html);
    if (!form) throw new Error(`unexpected page ${res.status} at ${url.pathname}: ${pageText(html).slice(0, 400)}`);
    await pause?.(form.kind);
    body = new URLSearchParams(form.fields);
    url = new URL(form.action, url);
    method = 'POST';
  }
  throw new Error('too many steps');
}

/**
 * Opens an authorization URL as a member would, and returns where Gatehouse finally sends
 * the browser outside itself (the client's redirect URI with the response).
 *
 * Signs in on the /signin form when asked (with `secondFactor()`'s code when two-step
 * verification follows the password), and answers the consent page with `decision`.
 * Returns { location: URL, pages: [{ kind, status, text }], jar } — pages are the HTML pages
 * seen. `pause` as for browse().
 */
export async function authorizeInBrowser(
  authorizationUrl,
  { username, password, decision = 'allow', jar = new CookieJar(), secondFactor, pause } = {},
) {
  const pages = [];
  const answer = (res, html) => {
    const forms = parseForms(html);
    const signin = forms.find((f) => f.action === '/signin' && f.method === 'post');
    const consent = forms.find((f) => f.action === '/authorize/consent' && f.method === 'post');
    if (res.status === 200 && signin && 'second_factor' in signin.hidden) {
      // Two-step verification after the password: `secondFactor()` gives the code.
      pages.push({ kind: 'second_factor', status: res.status, text: pageText(html) });
      if (!secondFactor) throw new Error('a second factor was asked for, but no secondFactor was given');
      return { kind: 'second_factor', action: '/signin', fields: { ...signin.hidden, code: secondFactor() } };
    }
    if (res.status === 200 && signin && 'csrf_token' in signin.hidden) {
      pages.push({ kind: 'signin', status: res.status, text: pageText(html) });
      if (username === undefined) throw new Error('the sign-in form was shown, but no username was given');
      return { kind: 'signin', action: '/signin', fields: { ...signin.hidden, username, password } };
    }
    if (res.status === 200 && consent) {
      pages.push({ kind: 'consent', status: res.status, text: pageText(html), hidden: consent.hidden });
      return { kind: 'consent', action: '/authorize/consent', fields: { ...consent.hidden, decision } };
    }
    return undefined;
  };
  const { location } = await browse(authorizationUrl, { origin: new URL(BASE).origin, jar, answer, pause });
  return { location, pages, jar };
}

// ---------------------------------------------------------------------------------------
// JWTs, checked by hand (node:crypto only), for what a client library leaves to the app.

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function decodeJwt(jwt) {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new Error('not a compact JWS');
  return {
    header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
    signingInput: `${parts[0]}.${parts[1]}`,
    signature: Buffer.from(parts[2], 'base64url'),
  };
}

/** Verifies an HS512 JWT with `key` (the registration's JWT signing key); returns its claims. */
export function verifyHs512(jwt, key) {
  const { header, payload, signingInput, signature } = decodeJwt(jwt);
  if (header.alg !== 'HS512') throw new Error(`alg is ${header.alg}, not HS512`);
  const expected = createHmac('sha512', Buffer.from(key, 'utf8')).update(signingInput).digest();
  if (expected.length !== signature.length || !timingSafeEqual(expected, signature)) {
    throw new Error('HS512 signature does not verify');
  }
  return { header, payload };
}

/** Verifies an RS256/RS512 JWT against the server's /jwks; returns its header and claims. */
export async function verifyWithJwks(jwt) {
  const { header, payload, signingInput, signature } = decodeJwt(jwt);
  // Ed25519 names no separate hash (null); ES256 signatures are r || s (JWS), not DER.
  const hash = { RS256: 'sha256', RS512: 'sha512', ES256: 'sha256', EdDSA: null }[header.alg];
  if (hash === undefined) throw new Error(`alg ${header.alg} is not an asymmetric algorithm`);
  const jwks = await (await fetch(`${BASE}/jwks`)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`kid ${header.kid} is not in /jwks`);
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  const key = header.alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey;
  if (!verify(hash, Buffer.from(signingInput), key, signature)) throw new Error(`${header.alg} signature does not verify`);
  return { header, payload };
}

/** at_hash / c_hash: base64url of the left half of the alg's hash of the value (OIDC Core 3.1.3.6). */
export function halfHash(value, alg) {
  const hash = { HS256: 'sha256', RS256: 'sha256', ES256: 'sha256', HS384: 'sha384', RS384: 'sha384', HS512: 'sha512', RS512: 'sha512', EdDSA: 'sha512' }[alg];
  const digest = createHash(hash).update(value, 'ascii').digest();
  return b64url(digest.subarray(0, digest.length / 2));
}
