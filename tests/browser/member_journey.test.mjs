// The member journey through Gatehouse's OpenID Provider in a real browser (issue 3): an app
// link (Gatehouse's /authorize with PKCE S256) → the sign-in page naming the app → the consent
// page naming the app and the organisation → the app's redirect URL with `code`, `state` and
// `iss`. Members whose AccessRestrictionCode is in the No Access Mapping see the No Access page
// (`S`) or are redirected to the mapped URL (`I|https://example.org/reactivate`).
//
// The queries, members and registration are made through the admin API (bearer token from the
// `gatehouse-admin` password grant), under names unique to this run. The "app" is a tiny HTTP
// server on 127.0.0.1 that records what it receives.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { after, before, test } from 'node:test';

import {
  BASE,
  adminApi,
  fillSignIn,
  launchBrowser,
  mainText,
  newPage,
  screenshot,
  signIn,
  submit,
  uniqueSuffix,
} from './browser.mjs';

const RUN = uniqueSuffix();
const ORG_NAME = process.env.GATEHOUSE_ORG_NAME || 'Gatehouse';
const APP_NAME = `Journey App ${RUN}`;
const PASSWORD = `journey-password-${RUN}`;
const REACTIVATE = 'https://example.org/reactivate';

let browser;
let app;
let fixture;

/** The client app: answers every request with 200 "app received code" and remembers it. */
async function startApp() {
  const received = [];
  const server = http.createServer((req, res) => {
    received.push(new URL(req.url, `http://${req.headers.host}`));
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('app received code');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  return {
    server,
    received,
    redirectUri: `http://127.0.0.1:${port}/callback`,
    postLogoutUri: `http://127.0.0.1:${port}/signed-out`,
  };
}

async function createMember(label, status) {
  const username = `${label}-${RUN}`;
  const contact = await adminApi('POST', '/contacts', {
    username,
    email: `${username}@example.org`,
    first_name: label[0].toUpperCase() + label.slice(1),
    last_name: 'Journey',
    password: PASSWORD,
    status,
    roles: ['Member'],
  });
  return { id: contact.id, username };
}

before(async () => {
  if (!process.env.GATEHOUSE_ADMIN_PASSWORD) throw new Error('GATEHOUSE_ADMIN_PASSWORD is not set');
  app = await startApp();
  const profileQuery = `$/Journey/${RUN}/ProfileData`;
  const roleQuery = `$/Journey/${RUN}/RoleData`;
  await adminApi('POST', '/queries', {
    path: profileQuery,
    kind: 'profile',
    columns: [
      { source: 'first_name', alias: 'given_name' },
      { source: 'last_name', alias: 'family_name' },
      { source: 'email', alias: 'email' },
      { source: 'status', alias: 'AccessRestrictionCode' },
    ],
  });
  await adminApi('POST', '/queries', { path: roleQuery, kind: 'role', columns: [{ source: 'roles', alias: 'Role' }] });
  const registration = await adminApi('POST', '/registrations', {
    name: APP_NAME,
    redirect_urls: [app.redirectUri],
    post_logout_redirect_urls: [app.postLogoutUri],
    profile_query: profileQuery,
    role_query: roleQuery,
    role_format: 'array',
    id_token_fields: [],
    no_access_mapping: `S\nI|${REACTIVATE}`,
    grant_types: [],
  });
  fixture = {
    clientId: registration.client_id,
    clientSecret: registration.client_secret,
    active: await createMember('active', 'A'),
    suspended: await createMember('suspended', 'S'),
    inactive: await createMember('inactive', 'I'),
  };
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  app?.server.close();
});

/** The link a client app puts behind its "Sign in" button, with PKCE S256. */
function appLink() {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(12).toString('base64url');
  const nonce = randomBytes(12).toString('base64url');
  const url = new URL('/authorize', BASE);
  url.search = new URLSearchParams({
    client_id: fixture.clientId,
    redirect_uri: app.redirectUri,
    response_type: 'code',
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.href, verifier, state, nonce };
}

/** Opens the app link in a fresh browser context; checks the sign-in page names the app, then signs in. */
async function openAndSignIn(member) {
  const session = await newPage(browser);
  const link = appLink();
  await session.page.goto(link.url);
  const url = new URL(session.page.url());
  assert.equal(url.pathname, '/signin', `the app link leads to the sign-in page, not ${url}`);
  assert.match(await session.page.locator('.continue-to').innerText(), new RegExp(`^Sign in to continue to: ${APP_NAME}$`));
  const result = await signIn(session.page, member.username, PASSWORD);
  return { ...session, link, result };
}

test('a member signs in to the app: sign-in page, consent page, back at the app with a code', async (t) => {
  const { context, page, problems, link } = await openAndSignIn(fixture.active);
  try {
    await t.test('the consent page names the app and the organisation', async () => {
      assert.equal(new URL(page.url()).pathname, '/authorize');
      const text = await mainText(page);
      assert.ok(
        text.includes(`Allow ${APP_NAME} to access the following information from your account at ${ORG_NAME}?`),
        text,
      );
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      await page.getByRole('button', { name: 'Deny' }).waitFor();
      await screenshot(page, 'consent.png');
    });

    let code;
    let idToken;
    await t.test('Allow lands on the app with code, state and iss', async () => {
      const result = await submit(page, page.getByRole('button', { name: 'Allow' }));
      assert.equal(result.status, 303, 'the consent POST answers 303');
      assert.equal(`${result.url.origin}${result.url.pathname}`, app.redirectUri);
      assert.equal(await page.locator('body').innerText(), 'app received code');
      code = result.url.searchParams.get('code');
      assert.ok(code, 'a code');
      assert.equal(result.url.searchParams.get('state'), link.state);
      assert.equal(result.url.searchParams.get('iss'), BASE);
      const seen = app.received.find((u) => u.searchParams.get('code') === code);
      assert.ok(seen, 'the app server received the code');
      assert.equal(seen.searchParams.get('state'), link.state);
    });

    await t.test('the app redeems the code with its PKCE verifier', async () => {
      const res = await fetch(`${BASE}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: app.redirectUri,
          client_id: fixture.clientId,
          client_secret: fixture.clientSecret,
          code_verifier: link.verifier,
        }),
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      const claims = JSON.parse(Buffer.from(body.id_token.split('.')[1], 'base64url').toString());
      assert.equal(claims.nonce, link.nonce);
      assert.equal(claims.aud, fixture.clientId);
      assert.ok(claims.sid, 'the ID token names the session');
      idToken = body.id_token;
    });

    await t.test('the app signs the member out: its post-logout page, then /account asks to sign in again', async () => {
      const logout = new URL('/signout', BASE);
      logout.search = new URLSearchParams({
        id_token_hint: idToken,
        post_logout_redirect_uri: app.postLogoutUri,
        state: 'bye-state',
      }).toString();
      await page.goto(logout.href);
      const landed = new URL(page.url());
      assert.equal(`${landed.origin}${landed.pathname}`, app.postLogoutUri, 'back at the app after signing out');
      assert.equal(landed.searchParams.get('state'), 'bye-state');
      await page.goto(new URL('/account', BASE).href);
      assert.equal(new URL(page.url()).pathname, '/signin', '/account asks to sign in again');
    });

    await t.test('no page caused a browser error (CSP violations included)', () => {
      assert.deepEqual(problems, []);
    });
  } finally {
    await context.close();
  }
});

test('a member whose status is listed alone in the No Access Mapping sees the No Access page', async () => {
  const appRequests = app.received.length;
  const { context, page, problems, result } = await openAndSignIn(fixture.suspended);
  try {
    assert.equal(result.pageStatus, 403);
    assert.equal(new URL(page.url()).pathname, '/authorize');
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'No access');
    assert.match(await mainText(page), new RegExp(`does not have access to ${APP_NAME}`));
    assert.equal(app.received.length, appRequests, 'the app received nothing');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a member whose status maps to a URL is redirected there', async () => {
  // The mapped site is on the internet, and Playwright cannot intercept a redirect's target: the
  // browser goes through a local proxy that records where it was sent and refuses to connect.
  const proxy = await startRefusingProxy();
  const appRequests = app.received.length;
  const { context, page } = await newPage(browser, { proxy: { server: proxy.url, bypass: '127.0.0.1,localhost' } });
  try {
    const link = appLink();
    await page.goto(link.url);
    assert.match(await page.locator('.continue-to').innerText(), new RegExp(`^Sign in to continue to: ${APP_NAME}$`));
    const button = await fillSignIn(page, fixture.inactive.username, PASSWORD);
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().startsWith('https://example.org/')),
      button.click(),
    ]);
    assert.equal(request.url(), REACTIVATE);
    assert.ok(request.isNavigationRequest());
    const authorize = request.redirectedFrom();
    assert.ok(authorize?.url().startsWith(`${BASE}/authorize?`), `redirected by /authorize, not ${authorize?.url()}`);
    assert.equal((await authorize.response()).status(), 303);
    assert.equal(authorize.redirectedFrom()?.url(), `${BASE}/signin`, 'right after signing in');
    await page.waitForLoadState('load').catch(() => {});
    assert.deepEqual(proxy.connects.filter((c) => c.includes('example.org')), ['example.org:443']);
    assert.equal(app.received.length, appRequests, 'the app received nothing');
  } finally {
    await context.close();
    proxy.server.close();
  }
});

/** An HTTP proxy that records CONNECT targets and refuses them all. */
async function startRefusingProxy() {
  const connects = [];
  const server = http.createServer((req, res) => {
    connects.push(req.url);
    res.writeHead(403).end();
  });
  server.on('connect', (req, socket) => {
    connects.push(req.url);
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, connects, url: `http://127.0.0.1:${server.address().port}` };
}
