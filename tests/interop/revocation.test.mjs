// Interoperability: openid-client's token revocation (RFC 7009) and introspection (RFC 7662)
// against a running Gatehouse, found through discovery.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as client from 'openid-client';

import { BASE, ISSUER, authorizeInBrowser, createFixture } from './setup.mjs';

async function configFor(fixture) {
  return client.discovery(
    new URL(ISSUER),
    fixture.clientId,
    { redirect_uris: [fixture.redirectUri] },
    client.ClientSecretBasic(fixture.clientSecret),
    { execute: [client.allowInsecureRequests] },
  );
}

async function tokensFor(config, fixture) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: fixture.redirectUri,
    scope: 'openid profile offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const { location } = await authorizeInBrowser(url, { username: fixture.member.username, password: fixture.member.password });
  return client.authorizationCodeGrant(config, location, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce });
}

test('discovery names the revocation and introspection endpoints', async () => {
  const meta = (await configFor(await createFixture())).serverMetadata();
  assert.equal(meta.revocation_endpoint, `${BASE}/token/revoke`);
  assert.equal(meta.introspection_endpoint, `${BASE}/token/introspect`);
});

test('introspect, revoke the refresh token, introspect again: inactive, and the refresh fails', async () => {
  const fixture = await createFixture();
  const config = await configFor(fixture);
  const tokens = await tokensFor(config, fixture);

  const active = await client.tokenIntrospection(config, tokens.refresh_token, { token_type_hint: 'refresh_token' });
  assert.equal(active.active, true);
  assert.equal(active.client_id, fixture.clientId);
  assert.equal(active.sub, fixture.member.id);
  assert.equal(active.username, fixture.member.username);
  assert.equal(active.iss, ISSUER);
  assert.ok(active.scope.split(' ').includes('offline_access'));
  const access = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(access.active, true);
  assert.equal(access.token_type, 'Bearer');

  await client.tokenRevocation(config, tokens.refresh_token, { token_type_hint: 'refresh_token' });
  assert.deepEqual(await client.tokenIntrospection(config, tokens.refresh_token), { active: false });
  assert.deepEqual(await client.tokenIntrospection(config, tokens.access_token), { active: false }, 'the family ends');
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => {
    assert.ok(e instanceof client.ResponseBodyError, `${e?.name}: ${e?.message}`);
    assert.equal(e.error, 'invalid_grant');
    return true;
  });
  // Unknown tokens are revoked without complaint (RFC 7009 §2.2).
  await client.tokenRevocation(config, 'no-such-token');
});

test('another client can neither introspect nor revoke the tokens', async () => {
  const fixture = await createFixture();
  const config = await configFor(fixture);
  const tokens = await tokensFor(config, fixture);
  const stranger = await configFor(await createFixture());
  assert.deepEqual(await client.tokenIntrospection(stranger, tokens.access_token), { active: false });
  await assert.rejects(client.tokenRevocation(stranger, tokens.refresh_token), (e) => {
    assert.ok(e instanceof client.ResponseBodyError, `${e?.name}: ${e?.message}`);
    assert.equal(e.error, 'unauthorized_client');
    return true;
  });
  assert.equal((await client.tokenIntrospection(config, tokens.refresh_token)).active, true, 'nothing changed');
});
