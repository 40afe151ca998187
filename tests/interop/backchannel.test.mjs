// Interoperability: Back-Channel Logout 1.0. A small HTTP receiver stands in for the app; the
// logout token it gets when the member signs out is verified with jose (panva's JWT library,
// which openid-client's ecosystem uses): RS256 through /jwks, HS512 with the client secret.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';

import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';

import { BASE, CookieJar, ISSUER, authorizeInBrowser, createFixture, setSigning } from './setup.mjs';
import { parseForms } from '../support/html.mjs';

/** Starts a receiver; `next()` resolves with the next POSTed body. */
async function receiver() {
  const waiting = [];
  const received = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      res.writeHead(200).end();
      const resolve = waiting.shift();
      if (resolve) resolve(body); else received.push(body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const next = () => (received.length ? Promise.resolve(received.shift()) : new Promise((resolve) => waiting.push(resolve)));
  return { url: `http://127.0.0.1:${server.address().port}/backchannel`, next, close: () => server.close() };
}

async function signInAndOut(fixture) {
  const jar = new CookieJar();
  const config = await client.discovery(
    new URL(ISSUER),
    fixture.clientId,
    { redirect_uris: [fixture.redirectUri] },
    client.ClientSecretBasic(fixture.clientSecret),
    { execute: [client.allowInsecureRequests] },
  );
  assert.equal(config.serverMetadata().backchannel_logout_supported, true);
  assert.equal(config.serverMetadata().backchannel_logout_session_supported, true);
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: fixture.redirectUri,
    scope: 'openid offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    nonce,
  });
  const { location } = await authorizeInBrowser(url, { username: fixture.member.username, password: fixture.member.password, jar });
  const tokens = await client.authorizationCodeGrant(config, location, { pkceCodeVerifier: codeVerifier, expectedNonce: nonce });

  const page = await fetch(`${BASE}/signout`, { headers: { cookie: jar.header() } });
  const form = parseForms(await page.text()).find((f) => f.action === '/signout');
  const done = await fetch(`${BASE}/signout`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form.hidden),
  });
  assert.equal(done.status, 303);
  return { config, tokens };
}

function checkLogoutClaims(payload, fixture, idClaims) {
  assert.equal(payload.sub, fixture.member.id);
  assert.equal(payload.sid, idClaims.sid);
  assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
  assert.ok(payload.jti && payload.iat);
  assert.equal(payload.nonce, undefined);
}

test('back-channel logout token, RS256, verified through /jwks; the refresh token stops working', async () => {
  await setSigning('RS256');
  const app = await receiver();
  try {
    const fixture = await createFixture({ backchannelLogoutUrl: app.url });
    const { config, tokens } = await signInAndOut(fixture);
    const body = new URLSearchParams(await app.next());
    const { payload, protectedHeader } = await jwtVerify(body.get('logout_token'), createRemoteJWKSet(new URL(`${BASE}/jwks`)), {
      issuer: ISSUER,
      audience: fixture.clientId,
      algorithms: ['RS256'],
    });
    assert.equal(protectedHeader.alg, 'RS256');
    checkLogoutClaims(payload, fixture, tokens.claims());
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');
  } finally {
    app.close();
  }
});

test('back-channel logout token, HS512 keyed by the client secret', async () => {
  await setSigning('HS512');
  const app = await receiver();
  try {
    const fixture = await createFixture({ backchannelLogoutUrl: app.url, idTokenHmacKey: 'client_secret' });
    const { tokens } = await signInAndOut(fixture);
    const body = new URLSearchParams(await app.next());
    const { payload } = await jwtVerify(body.get('logout_token'), new TextEncoder().encode(fixture.clientSecret), {
      issuer: ISSUER,
      audience: fixture.clientId,
      algorithms: ['HS512'],
    });
    checkLogoutClaims(payload, fixture, tokens.claims());
  } finally {
    app.close();
  }
});
