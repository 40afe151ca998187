// Interoperability: RP-Initiated Logout 1.0 with openid-client's buildEndSessionUrl against a
// running Gatehouse: the hint for the session signs out and returns to the registered URL with
// `state`; an unregistered URL is refused without a redirect.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as client from 'openid-client';

import { BASE, CookieJar, ISSUER, authorizeInBrowser, createFixture, setSigning } from './setup.mjs';

async function signIn(fixture, jar) {
  const config = await client.discovery(
    new URL(ISSUER),
    fixture.clientId,
    { redirect_uris: [fixture.redirectUri], id_token_signed_response_alg: 'RS256' },
    client.ClientSecretBasic(fixture.clientSecret),
    { execute: [client.allowInsecureRequests] },
  );
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: fixture.redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const { location } = await authorizeInBrowser(url, { username: fixture.member.username, password: fixture.member.password, jar });
  const tokens = await client.authorizationCodeGrant(config, location, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce });
  return { config, tokens };
}

async function visit(url, jar) {
  const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
  jar.store(res);
  await res.arrayBuffer();
  return res;
}

test('RP-initiated logout with id_token_hint returns to the registered URL with state; the session is gone', async () => {
  await setSigning('RS256');
  const bye = 'http://127.0.0.1:9/signed-out';
  const fixture = await createFixture({ postLogoutRedirectUris: [bye] });
  const jar = new CookieJar();
  const { config, tokens } = await signIn(fixture, jar);
  assert.ok(tokens.claims().sid, 'the ID token names the session');
  assert.equal(config.serverMetadata().end_session_endpoint, `${BASE}/signout`);
  assert.equal((await visit(`${BASE}/account`, jar)).status, 200, 'signed in');

  const refused = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: 'http://127.0.0.1:9/elsewhere',
  });
  const answer = await visit(refused, jar);
  assert.equal(answer.status, 400);
  assert.equal(answer.headers.get('location'), null, 'no redirect to an unregistered URL');
  assert.equal((await visit(`${BASE}/account`, jar)).status, 200, 'still signed in');

  const state = client.randomState();
  const url = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: bye, state });
  const done = await visit(url, jar);
  assert.equal(done.status, 303);
  const back = new URL(done.headers.get('location'));
  assert.equal(`${back.origin}${back.pathname}`, bye);
  assert.equal(back.searchParams.get('state'), state);
  const account = await visit(`${BASE}/account`, jar);
  assert.equal(account.status, 303, '/account asks to sign in again');
  assert.match(account.headers.get('location'), /^\/signin/);
});
