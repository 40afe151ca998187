// Interoperability: the `openid-client` library (v6, panva) as the relying party against a
// running Gatehouse. GATEHOUSE_URL and GATEHOUSE_ADMIN_PASSWORD say where and how.
//
// The ID token signing algorithm is one organisation-wide setting, so the tests of this file
// run one after another (node:test's default inside a file) and each sets what it needs.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as client from 'openid-client';

import { pageText, parseForms } from '../support/html.mjs';
import { stepAt, totp } from '../support/totp.mjs';
import {
  BASE,
  CookieJar,
  ISSUER,
  adminApi,
  authorizeInBrowser,
  createFixture,
  decodeJwt,
  halfHash,
  setSigning,
  verifyHs512,
  verifyWithJwks,
} from './setup.mjs';

/** An openid-client Configuration for the fixture's registration, found by discovery. */
async function configFor(fixture, { auth = 'basic', metadata = {}, execute = [] } = {}) {
  const authentication = {
    basic: () => client.ClientSecretBasic(fixture.clientSecret),
    post: () => client.ClientSecretPost(fixture.clientSecret),
    none: () => client.None(),
  }[auth]();
  return client.discovery(
    new URL(ISSUER),
    fixture.clientId,
    { redirect_uris: [fixture.redirectUri], ...metadata },
    authentication,
    // Gatehouse runs on http://127.0.0.1 here; openid-client is https-only unless told.
    { execute: [client.allowInsecureRequests, ...execute] },
  );
}

/** Runs the authorization request in the "browser"; returns the callback URL and what checks need. */
async function authorize(
  config,
  fixture,
  { scope = 'openid profile email roles', decision = 'allow', jar, extra = {}, secondFactor } = {},
) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: fixture.redirectUri,
    scope,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  const { location, pages } = await authorizeInBrowser(url, {
    username: fixture.member.username,
    password: fixture.member.password,
    decision,
    jar,
    secondFactor,
  });
  return { location, pages, codeVerifier, state, nonce };
}

async function rejects(promise, cls, error) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e?.name}: ${e?.message}`);
    assert.equal(e.error, error, `error code (${e.error_description ?? ''})`);
    return true;
  });
}

/**
 * The claims a Gatehouse ID token for this fixture must carry. Standard claims follow their
 * scopes (OIDC Core §5.4): names with `profile`, the email with `email`, and none without.
 */
function assertIdentityClaims(claims, fixture, scope = 'openid profile email') {
  const scopes = scope.split(' ');
  assert.equal(claims.iss, ISSUER);
  assert.equal(claims.sub, fixture.member.id);
  assert.deepEqual([claims.aud].flat(), [fixture.clientId]);
  const profile = scopes.includes('profile');
  assert.equal(claims.given_name, profile ? 'Bob' : undefined);
  assert.equal(claims.family_name, profile ? 'Smith' : undefined);
  assert.equal(claims.preferred_username, profile ? fixture.member.username : undefined);
  assert.equal(claims.email, scopes.includes('email') ? fixture.member.email : undefined);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(claims.iat <= now + 5 && claims.iat >= now - 300, `iat ${claims.iat} is about now`);
  assert.ok(claims.exp > now, 'not expired');
  assert.equal(typeof claims.auth_time, 'number');
}

test('discovery: openid-client reads the provider metadata', async () => {
  const fixture = await createFixture();
  const config = await configFor(fixture);
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, ISSUER);
  assert.equal(meta.authorization_endpoint, `${BASE}/authorize`);
  assert.equal(meta.token_endpoint, `${BASE}/token`);
  assert.equal(meta.userinfo_endpoint, `${BASE}/userinfo`);
  assert.equal(meta.jwks_uri, `${BASE}/jwks`);
  assert.ok(meta.code_challenge_methods_supported.includes('S256'));
  assert.ok(config.serverMetadata().supportsPKCE('S256'));
  assert.equal(meta.authorization_response_iss_parameter_supported, true);
  for (const method of ['client_secret_basic', 'client_secret_post', 'none']) {
    assert.ok(meta.token_endpoint_auth_methods_supported.includes(method), method);
  }
  assert.equal(config.clientMetadata().client_id, fixture.clientId);
});

test('discovery lists only the algorithm ID tokens are signed with', async () => {
  const fixture = await createFixture();
  for (const algorithm of ['RS256', 'HS512']) {
    await setSigning(algorithm);
    const meta = (await configFor(fixture)).serverMetadata();
    assert.deepEqual(meta.id_token_signing_alg_values_supported, [algorithm]);
  }
});

for (const [alg, kty] of [['ES256', 'EC'], ['EdDSA', 'OKP']]) {
  test(`authorization code + PKCE, ${alg} ID token verified by openid-client through /jwks`, async () => {
    await setSigning(alg);
    const fixture = await createFixture();
    const config = await configFor(fixture, {
      auth: 'basic',
      metadata: { id_token_signed_response_alg: alg },
      execute: [client.enableNonRepudiationChecks],
    });
    assert.deepEqual(config.serverMetadata().id_token_signing_alg_values_supported, [alg]);
    const { location, codeVerifier, state, nonce } = await authorize(config, fixture);
    const tokens = await client.authorizationCodeGrant(config, location, {
      pkceCodeVerifier: codeVerifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const { header } = decodeJwt(tokens.id_token);
    assert.equal(header.alg, alg);
    const jwks = await (await fetch(`${BASE}/jwks`)).json();
    const published = jwks.keys.find((k) => k.kid === header.kid);
    assert.equal(published.kty, kty);
    assert.equal(published.alg, alg);
    assert.equal(published.d, undefined, 'only the public half is published');
    const claims = tokens.claims();
    assertIdentityClaims(claims, fixture);
    assert.equal(claims.at_hash, halfHash(tokens.access_token, alg));
    // openid-client verified the signature (non-repudiation checks); check it independently too.
    assert.equal((await verifyWithJwks(tokens.id_token)).payload.sub, fixture.member.id);
    const [header64, , signature64] = tokens.id_token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
    await assert.rejects(verifyWithJwks(`${header64}.${forged}.${signature64}`), /does not verify/);
  });
}

test('HS512 keyed by the client secret (id_token_hmac_key): openid-client with its defaults', async () => {
  await setSigning('HS512');
  const fixture = await createFixture({ idTokenHmacKey: 'client_secret' });
  assert.equal(fixture.registration.id_token_hmac_key, 'client_secret');
  assert.equal(fixture.registration.jwt_signing_key, null, 'the unused separate key is hidden');
  // No algorithm or key passed: the client secret and discovery are all it has.
  const config = await configFor(fixture);
  const { location, codeVerifier, state, nonce } = await authorize(config, fixture);
  const tokens = await client.authorizationCodeGrant(config, location, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  const claims = tokens.claims();
  assertIdentityClaims(claims, fixture);
  assert.equal(claims.nonce, nonce);
  // openid-client trusts the token endpoint's TLS for the ID token; this checks the key is the
  // client secret, as OIDC Core §10.1 and every library that does verify HS512 expect.
  const { header } = verifyHs512(tokens.id_token, fixture.clientSecret);
  assert.equal(header.alg, 'HS512');
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.given_name, 'Bob');
});

test('authorization code + PKCE S256, client_secret_basic, RS256 ID token verified through /jwks', async () => {
  await setSigning('RS256');
  const fixture = await createFixture();
  const config = await configFor(fixture, {
    auth: 'basic',
    metadata: { id_token_signed_response_alg: 'RS256' },
    execute: [client.enableNonRepudiationChecks],
  });
  const { location, pages, codeVerifier, state, nonce } = await authorize(config, fixture);

  assert.deepEqual(pages.map((p) => p.kind), ['signin', 'consent']);
  const consent = pages[1].text;
  assert.match(consent, new RegExp(`Allow Interop App ${fixture.run} to access the following information from your account at .+\\?`));
  assert.equal(pages[1].hidden.code_challenge_method, 'S256');
  assert.equal(location.searchParams.get('state'), state);
  assert.equal(location.searchParams.get('iss'), ISSUER);
  assert.ok(location.searchParams.get('code'));

  const tokens = await client.authorizationCodeGrant(config, location, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  assert.equal(tokens.token_type, 'bearer');
  assert.ok(tokens.expires_in > 0 && tokens.expires_in <= 3600);
  assert.equal(tokens.refresh_token, undefined, 'no offline_access, no refresh token');
  assert.deepEqual(tokens.scope.split(' ').sort(), ['email', 'openid', 'profile', 'roles']);

  const { header } = decodeJwt(tokens.id_token);
  assert.equal(header.alg, 'RS256');
  assert.ok(header.kid, 'RS256 tokens name their key');
  const jwks = await (await fetch(`${BASE}/jwks`)).json();
  assert.ok(jwks.keys.some((k) => k.kid === header.kid && k.kty === 'RSA' && k.alg === 'RS256'));

  const claims = tokens.claims();
  assertIdentityClaims(claims, fixture);
  assert.equal(claims.nonce, nonce);
  assert.equal(claims.azp, fixture.clientId);
  assert.equal(claims.at_hash, halfHash(tokens.access_token, 'RS256'));
  assert.deepEqual(claims.roles, ['Staff', 'Volunteer']);
  assert.equal(claims.AccessRestrictionCode, 'A', 'the registration\'s id_token_fields');
  assert.ok(claims.sid, 'a browser sign-in has a session id');

  // openid-client verified the signature (non-repudiation checks); check it independently too.
  const verified = await verifyWithJwks(tokens.id_token);
  assert.equal(verified.payload.sub, fixture.member.id);

  // A tampered token must not verify through the same JWKS path.
  const [header64, , signature64] = tokens.id_token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
  await assert.rejects(verifyWithJwks(`${header64}.${forged}.${signature64}`), /does not verify/);

  // The code is single use.
  await rejects(
    client.authorizationCodeGrant(config, location, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce }),
    client.ResponseBodyError,
    'invalid_grant',
  );
});

test('authorization code, client_secret_post, HS512 ID token verified with the registration signing key', async () => {
  await setSigning('HS512');
  const fixture = await createFixture();
  const signingKey = await fixture.signingKey();
  assert.equal(signingKey.length, 64);
  assert.notEqual(signingKey, fixture.clientSecret, 'HS512 uses its own key, not the client secret');
  const config = await configFor(fixture, { auth: 'post', metadata: { id_token_signed_response_alg: 'HS512' } });
  const { location, codeVerifier, state, nonce } = await authorize(config, fixture, { scope: 'openid profile email' });

  const tokens = await client.authorizationCodeGrant(config, location, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  // openid-client checked iss, aud, nonce, exp, iat and the alg header; the HMAC is ours to check.
  const { header, payload } = verifyHs512(tokens.id_token, signingKey);
  assert.equal(header.alg, 'HS512');
  assertIdentityClaims(payload, fixture);
  assert.equal(payload.nonce, nonce);
  assert.equal(payload.at_hash, halfHash(tokens.access_token, 'HS512'), 'at_hash is the left half of SHA-512');
  assert.equal(payload.roles, undefined, 'no roles scope, no roles claim');
  assert.deepEqual(tokens.claims(), payload);
  assert.throws(() => verifyHs512(tokens.id_token, fixture.clientSecret), /does not verify/);
});

test('RS512, then key rotation: the new key signs, the old one stays published in /jwks', async () => {
  await setSigning('RS512');
  const fixture = await createFixture();
  const options = {
    metadata: { id_token_signed_response_alg: 'RS512' },
    execute: [client.enableNonRepudiationChecks],
  };
  const jar = new CookieJar();
  const grant = async (config) => {
    const r = await authorize(config, fixture, { jar });
    return client.authorizationCodeGrant(config, r.location, {
      pkceCodeVerifier: r.codeVerifier,
      expectedState: r.state,
      expectedNonce: r.nonce,
    });
  };
  const before = await grant(await configFor(fixture, options));
  const oldHeader = decodeJwt(before.id_token).header;
  assert.equal(oldHeader.alg, 'RS512');
  assert.equal(before.claims().at_hash, halfHash(before.access_token, 'RS512'));

  const rotated = await adminApi('POST', '/signing/rotate');
  const active = rotated.keys.filter((k) => k.active);
  assert.equal(active.length, 1);
  assert.notEqual(active[0].kid, oldHeader.kid);

  // A relying party that discovers afresh (empty JWKS cache) verifies the new key's tokens.
  const after = await grant(await configFor(fixture, options));
  const newHeader = decodeJwt(after.id_token).header;
  assert.equal(newHeader.kid, active[0].kid);
  assert.equal(after.claims().sub, fixture.member.id);

  const kids = (await (await fetch(`${BASE}/jwks`)).json()).keys.map((k) => k.kid);
  assert.ok(kids.includes(oldHeader.kid) && kids.includes(newHeader.kid), 'both keys are published');
  const old = await verifyWithJwks(before.id_token);
  assert.equal(old.payload.sub, fixture.member.id, 'tokens signed before the rotation still verify');
});

test('PKCE is enforced: a wrong code_verifier gets invalid_grant', async () => {
  const fixture = await createFixture();
  const config = await configFor(fixture);
  const { location, state, nonce } = await authorize(config, fixture);
  await rejects(
    client.authorizationCodeGrant(config, location, {
      pkceCodeVerifier: client.randomPKCECodeVerifier(),
      expectedState: state,
      expectedNonce: nonce,
    }),
    client.ResponseBodyError,
    'invalid_grant',
  );
});

test('consent is remembered per member and app; denying it gives access_denied', async () => {
  const fixture = await createFixture();
  const config = await configFor(fixture);
  const jar = new CookieJar();
  const first = await authorize(config, fixture, { jar });
  assert.deepEqual(first.pages.map((p) => p.kind), ['signin', 'consent']);
  const second = await authorize(config, fixture, { jar });
  assert.deepEqual(second.pages, [], 'signed in and consented: straight back to the app');
  const tokens = await client.authorizationCodeGrant(config, second.location, {
    pkceCodeVerifier: second.codeVerifier,
    expectedState: second.state,
    expectedNonce: second.nonce,
  });
  assert.equal(tokens.claims().nonce, second.nonce);

  const other = await createFixture();
  const otherConfig = await configFor(other);
  const denied = await authorize(otherConfig, other, { decision: 'deny' });
  assert.equal(denied.location.searchParams.get('error'), 'access_denied');
  await rejects(
    client.authorizationCodeGrant(otherConfig, denied.location, {
      pkceCodeVerifier: denied.codeVerifier,
      expectedState: denied.state,
      expectedNonce: denied.nonce,
    }),
    client.AuthorizationResponseError,
    'access_denied',
  );
});

test('prompt=none: login_required without a session, a code once signed in and consented', async () => {
  const fixture = await createFixture();
  const config = await configFor(fixture);
  const jar = new CookieJar();
  const silent = await authorize(config, fixture, { jar, extra: { prompt: 'none' } });
  assert.deepEqual(silent.pages, []);
  await rejects(
    client.authorizationCodeGrant(config, silent.location, {
      pkceCodeVerifier: silent.codeVerifier,
      expectedState: silent.state,
      expectedNonce: silent.nonce,
    }),
    client.AuthorizationResponseError,
    'login_required',
  );
  await authorize(config, fixture, { jar });
  const again = await authorize(config, fixture, { jar, extra: { prompt: 'none' } });
  assert.deepEqual(again.pages, []);
  const tokens = await client.authorizationCodeGrant(config, again.location, {
    pkceCodeVerifier: again.codeVerifier,
    expectedState: again.state,
    expectedNonce: again.nonce,
  });
  assert.equal(tokens.claims().sub, fixture.member.id);
});

test('refresh token grant (offline_access): new tokens, rotation, and replay revokes the family', async () => {
  const fixture = await createFixture();
  const config = await configFor(fixture);
  const { location, codeVerifier, state, nonce } = await authorize(config, fixture, {
    scope: 'openid profile offline_access',
  });
  const first = await client.authorizationCodeGrant(config, location, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  assert.ok(first.refresh_token, 'offline_access gives a refresh token');
  const original = first.claims();

  const second = await client.refreshTokenGrant(config, first.refresh_token);
  assert.ok(second.access_token);
  assert.notEqual(second.access_token, first.access_token);
  assert.ok(second.refresh_token, 'the refresh token rotates');
  assert.notEqual(second.refresh_token, first.refresh_token);
  assert.deepEqual(second.scope.split(' ').sort(), ['offline_access', 'openid', 'profile']);
  const refreshed = second.claims();
  assert.ok(refreshed, 'a refresh with openid returns an ID token');
  assert.equal(refreshed.iss, original.iss);
  assert.equal(refreshed.sub, original.sub);
  assert.deepEqual(refreshed.aud, original.aud);
  assert.equal(refreshed.auth_time, original.auth_time, 'auth_time stays the original sign-in');

  const info = await client.fetchUserInfo(config, second.access_token, original.sub);
  assert.equal(info.given_name, 'Bob');

  // Narrowing the scope is allowed, widening is not.
  const narrowed = await client.refreshTokenGrant(config, second.refresh_token, { scope: 'openid' });
  assert.equal(narrowed.scope, 'openid');
  await rejects(
    client.refreshTokenGrant(config, narrowed.refresh_token, { scope: 'openid profile email' }),
    client.ResponseBodyError,
    'invalid_scope',
  );

  // The used refresh token is dead; presenting it again revokes everything of its family.
  await rejects(client.refreshTokenGrant(config, first.refresh_token), client.ResponseBodyError, 'invalid_grant');
  await rejects(client.refreshTokenGrant(config, narrowed.refresh_token), client.ResponseBodyError, 'invalid_grant');
  await assert.rejects(client.fetchUserInfo(config, narrowed.access_token, original.sub), (e) => {
    assert.ok(e instanceof client.WWWAuthenticateChallengeError, `${e?.name}: ${e?.message}`);
    assert.equal(e.status, 401);
    assert.equal(e.cause[0].parameters.error, 'invalid_token');
    return true;
  });

  // Another client cannot use this client's refresh token.
  const stranger = await createFixture();
  const fresh = await authorize(config, fixture, { scope: 'openid offline_access' });
  const mine = await client.authorizationCodeGrant(config, fresh.location, {
    pkceCodeVerifier: fresh.codeVerifier,
    expectedState: fresh.state,
    expectedNonce: fresh.nonce,
  });
  await rejects(
    client.refreshTokenGrant(await configFor(stranger), mine.refresh_token),
    client.ResponseBodyError,
    'invalid_grant',
  );
});

test('userinfo: profile columns, nested address.locality, roles as an array or CSV', async () => {
  for (const roleFormat of ['array', 'csv']) {
    const fixture = await createFixture({ roleFormat });
    const config = await configFor(fixture);
    const { location, codeVerifier, state, nonce } = await authorize(config, fixture);
    const tokens = await client.authorizationCodeGrant(config, location, {
      pkceCodeVerifier: codeVerifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    const sub = tokens.claims().sub;
    const info = await client.fetchUserInfo(config, tokens.access_token, sub);
    assert.equal(info.sub, fixture.member.id);
    assert.equal(info.given_name, 'Bob');
    assert.equal(info.family_name, 'Smith');
    assert.equal(info.email, fixture.member.email);
    assert.equal(info.AccessRestrictionCode, 'A');
    assert.deepEqual(info.address, { locality: 'Leeds' });
    if (roleFormat === 'array') assert.deepEqual(info.roles, ['Staff', 'Volunteer']);
    else assert.equal(info.roles, 'Staff,Volunteer');

    // openid-client refuses a userinfo response about someone else.
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, 'not-the-subject'), (e) => {
      assert.ok(e instanceof client.ClientError, `${e?.name}: ${e?.message}`);
      assert.equal(e.cause?.cause?.attribute ?? e.cause?.attribute, 'sub');
      return true;
    });
  }
});

test('implicit (id_token token) works when enabled: RS256 ID token, at_hash, access token at userinfo', async () => {
  await setSigning('RS256');
  const fixture = await createFixture({ grantTypes: ['implicit'] });
  const config = await configFor(fixture, {
    auth: 'none',
    metadata: { id_token_signed_response_alg: 'RS256' },
    execute: [client.useIdTokenResponseType],
  });

  for (const responseType of ['id_token token', 'id_token']) {
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: fixture.redirectUri,
      response_type: responseType,
      scope: 'openid profile roles',
      state,
      nonce,
    });
    const { location } = await authorizeInBrowser(url, {
      username: fixture.member.username,
      password: fixture.member.password,
    });
    assert.equal(location.search, '', 'implicit responses travel in the fragment');
    const fragment = new URLSearchParams(location.hash.slice(1));
    assert.equal(fragment.get('state'), state);
    assert.equal(fragment.get('iss'), ISSUER);

    // openid-client verifies the front-channel ID token's signature through /jwks.
    const claims = await client.implicitAuthentication(config, location, nonce, { expectedState: state });
    assertIdentityClaims(claims, fixture, 'openid profile roles');
    assert.equal(claims.nonce, nonce);
    assert.deepEqual(claims.roles, ['Staff', 'Volunteer']);

    if (responseType === 'id_token token') {
      const accessToken = fragment.get('access_token');
      assert.ok(accessToken);
      assert.equal(fragment.get('token_type'), 'Bearer');
      assert.ok(Number(fragment.get('expires_in')) > 0);
      assert.equal(claims.at_hash, halfHash(accessToken, 'RS256'), 'at_hash is required with an access token');
      const info = await client.fetchUserInfo(config, accessToken, claims.sub);
      assert.deepEqual(info.address, { locality: 'Leeds' });
      assert.deepEqual(info.roles, ['Staff', 'Volunteer']);
      assert.equal(fragment.get('refresh_token'), null, 'no refresh token from the front channel');
    } else {
      assert.equal(fragment.get('access_token'), null);
      assert.equal(claims.at_hash, undefined);
    }
  }
});

test('implicit is refused with unauthorized_client when the registration does not enable it', async () => {
  const fixture = await createFixture({ grantTypes: [] });
  const config = await configFor(fixture, { auth: 'none', execute: [client.useIdTokenResponseType] });
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: fixture.redirectUri,
    response_type: 'id_token token',
    scope: 'openid',
    state,
    nonce,
  });
  const { location, pages } = await authorizeInBrowser(url, {});
  assert.deepEqual(pages, [], 'refused before any sign-in');
  assert.equal(location.origin + location.pathname, fixture.redirectUri);
  const fragment = new URLSearchParams(location.hash.slice(1));
  assert.equal(fragment.get('error'), 'unauthorized_client');
  assert.equal(fragment.get('id_token'), null);
  await rejects(
    client.implicitAuthentication(config, location, nonce, { expectedState: state }),
    client.AuthorizationResponseError,
    'unauthorized_client',
  );
});

test('ROPC confidential: tokens when enabled, unauthorized_client when not', async () => {
  await setSigning('RS256');
  const enabled = await createFixture({ grantTypes: ['password_confidential'] });
  const config = await configFor(enabled, {
    auth: 'basic',
    metadata: { id_token_signed_response_alg: 'RS256' },
    execute: [client.enableNonRepudiationChecks],
  });
  const tokens = await client.genericGrantRequest(config, 'password', {
    username: enabled.member.username,
    password: enabled.member.password,
    scope: 'openid profile roles',
  });
  assert.ok(tokens.access_token);
  assert.ok(tokens.refresh_token, 'ROPC issues a refresh token');
  const claims = tokens.claims();
  assertIdentityClaims(claims, enabled, 'openid profile roles');
  assert.equal(claims.nonce, undefined);
  assert.deepEqual(claims.roles, ['Staff', 'Volunteer']);
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.deepEqual(info.address, { locality: 'Leeds' });
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.equal(refreshed.claims().sub, claims.sub);

  await rejects(
    client.genericGrantRequest(config, 'password', { username: enabled.member.username, password: 'wrong-password-1', scope: 'openid' }),
    client.ResponseBodyError,
    'invalid_grant',
  );

  const disabled = await createFixture({ grantTypes: [] });
  await rejects(
    client.genericGrantRequest(await configFor(disabled, { auth: 'post' }), 'password', {
      username: disabled.member.username,
      password: disabled.member.password,
      scope: 'openid',
    }),
    client.ResponseBodyError,
    'unauthorized_client',
  );
  // A registration with only ROPC (Public) still answers a client that also authenticates.
  const publicOnly = await createFixture({ grantTypes: ['password_public'] });
  const asConfidential = await client.genericGrantRequest(await configFor(publicOnly, { auth: 'basic' }), 'password', {
    username: publicOnly.member.username,
    password: publicOnly.member.password,
    scope: 'openid',
  });
  assert.ok(asConfidential.access_token);
});

test('ROPC public: tokens with the client ID only when enabled, unauthorized_client when not', async () => {
  await setSigning('RS256');
  const enabled = await createFixture({ grantTypes: ['password_public'] });
  const config = await configFor(enabled, {
    auth: 'none',
    metadata: { id_token_signed_response_alg: 'RS256' },
    execute: [client.enableNonRepudiationChecks],
  });
  const tokens = await client.genericGrantRequest(config, 'password', {
    username: enabled.member.username,
    password: enabled.member.password,
    scope: 'openid email offline_access',
  });
  const claims = tokens.claims();
  assertIdentityClaims(claims, enabled, 'openid email offline_access');
  assert.deepEqual(tokens.scope.split(' ').sort(), ['email', 'offline_access', 'openid']);
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, enabled.member.email);
  // A public client refreshes with its client ID alone.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  assert.equal(refreshed.claims().sub, claims.sub);

  const disabled = await createFixture({ grantTypes: ['implicit'] });
  await rejects(
    client.genericGrantRequest(await configFor(disabled, { auth: 'none' }), 'password', {
      username: disabled.member.username,
      password: disabled.member.password,
      scope: 'openid',
    }),
    client.ResponseBodyError,
    'unauthorized_client',
  );
  // Confidential-only: a public request must authenticate (invalid_client, 401).
  const confidentialOnly = await createFixture({ grantTypes: ['password_confidential'] });
  const refusal = await client
    .genericGrantRequest(await configFor(confidentialOnly, { auth: 'none' }), 'password', {
      username: confidentialOnly.member.username,
      password: confidentialOnly.member.password,
      scope: 'openid',
    })
    .then(
      () => assert.fail('a public password grant was accepted by a confidential-only registration'),
      (e) => e,
    );
  assert.equal(refusal.status, 401, `${refusal?.name}: ${refusal?.message}`);
  if (refusal instanceof client.ResponseBodyError) {
    assert.equal(refusal.error, 'invalid_client');
  } else {
    // Gatehouse adds `WWW-Authenticate: Bearer` to this 401, which openid-client reports as a
    // challenge without reading the body; the body still says invalid_client.
    assert.ok(refusal instanceof client.WWWAuthenticateChallengeError, `${refusal?.name}: ${refusal?.message}`);
    assert.equal((await refusal.response.json()).error, 'invalid_client');
  }
});

test('deleting the registration stops its tokens at once', async () => {
  const fixture = await createFixture();
  const config = await configFor(fixture);
  const r = await authorize(config, fixture, { scope: 'openid offline_access' });
  const tokens = await client.authorizationCodeGrant(config, r.location, {
    pkceCodeVerifier: r.codeVerifier,
    expectedState: r.state,
    expectedNonce: r.nonce,
  });
  const sub = tokens.claims().sub;
  assert.equal((await client.fetchUserInfo(config, tokens.access_token, sub)).sub, sub);

  await adminApi('DELETE', `/registrations/${fixture.clientId}`);
  await assert.rejects(client.fetchUserInfo(config, tokens.access_token, sub), (e) => {
    assert.ok(e instanceof client.WWWAuthenticateChallengeError, `${e?.name}: ${e?.message}`);
    assert.equal(e.cause[0].parameters.error, 'invalid_token');
    return true;
  });
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => {
    assert.equal(e.status, 401, `${e?.name}: ${e?.message}`);
    return true;
  });
});

/** Posts an HTML form over plain HTTP with the jar's cookies; returns the response (not followed). */
async function postForm(jar, path, fields) {
  const res = await fetch(new URL(path, BASE), {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  jar.store(res);
  return res;
}

async function getPage(jar, path) {
  const res = await fetch(new URL(path, BASE), { redirect: 'manual', headers: { cookie: jar.header() } });
  jar.store(res);
  return { status: res.status, html: await res.text() };
}

test('amr: pwd for a password, pwd otp mfa after two-step verification; the password grant is refused then', async () => {
  await setSigning('RS256');
  const saved = await adminApi('PUT', '/oidc-settings', { mode: 'disabled', mfa: 'optional' });
  assert.equal(saved.mfa, 'optional');
  try {
    const fixture = await createFixture({ grantTypes: ['password_confidential'] });
    const config = await configFor(fixture);
    const grant = async () => {
      const { location, codeVerifier, state, nonce, pages } = await authorize(config, fixture, {
        secondFactor: () => totp(key, stepAt() + 1),
      });
      const tokens = await client.authorizationCodeGrant(config, location, {
        pkceCodeVerifier: codeVerifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      return { claims: tokens.claims(), pages };
    };
    let key;
    let { claims, pages } = await grant();
    assert.deepEqual(pages.map((p) => p.kind), ['signin', 'consent']);
    assert.deepEqual(claims.amr, ['pwd'], 'a password alone');

    // The member sets up an authenticator app on their account page.
    const jar = new CookieJar();
    const signin = parseForms((await getPage(jar, '/signin')).html).find((f) => f.action === '/signin');
    const signedIn = await postForm(jar, '/signin', { ...signin.hidden, username: fixture.member.username, password: fixture.member.password });
    assert.equal(signedIn.status, 303);
    const setup = await getPage(jar, '/account/mfa');
    key = setup.html.match(/id="totp-secret">([^<]+)</)[1].replace(/\s/g, '');
    const form = parseForms(setup.html).find((f) => f.action === '/account/mfa');
    const enrolled = await postForm(jar, '/account/mfa', { ...form.hidden, code: totp(key) });
    assert.equal(enrolled.status, 200);
    assert.match(pageText(await enrolled.text()), /Save your recovery codes/);

    ({ claims, pages } = await grant());
    assert.deepEqual(pages.map((p) => p.kind), ['signin', 'second_factor'], 'the consent was given before');
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'], 'password and a one-time code');

    const refused = await fetch(`${BASE}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${fixture.clientId}:${fixture.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'password', username: fixture.member.username, password: fixture.member.password }),
    });
    assert.equal(refused.status, 400);
    const error = await refused.json();
    assert.equal(error.error, 'invalid_grant');
    assert.match(error.error_description, /multi-factor/);
  } finally {
    await adminApi('PUT', '/oidc-settings', { mode: 'disabled', mfa: 'off' });
  }
});
