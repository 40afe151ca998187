#!/usr/bin/env node
// node `oidc-provider` set up as comparably to Gatehouse as it allows, for tests/bench/ab.mjs:
// one client_secret_basic client, code + PKCE, refresh tokens that rotate on every use, ID
// tokens signed with the algorithm given, and an in-memory adapter that never evicts (the
// default one is an LRU of 1000 entries). Sign-in and consent are the provider's own
// development interactions (/interaction/<uid>): they accept any login and verify no password
// hash, so the sign-in step costs it no password check. Not a test fixture: a benchmark peer.
//
//   node tests/bench/oidc_provider_server.mjs HS512|RS256|ES256 [tokens]
//
// Prints `READY <issuer>` then `TOKENS <json array>`: that many refresh tokens, minted through
// the provider's own models for one account and the client (as a code exchange would leave).

import { createPrivateKey, generateKeyPairSync } from 'node:crypto';

import Provider from 'oidc-provider';

const alg = process.argv[2] ?? 'RS256';
const tokenCount = Number(process.argv[3] ?? 64);
export const CLIENT_ID = 'bench-client';
export const CLIENT_SECRET = 'bench-secret-'.padEnd(96, 'x');

const store = new Map();
class MapAdapter {
  constructor(name) {
    this.name = name;
  }

  key(id) {
    return `${this.name}:${id}`;
  }

  async upsert(id, payload) {
    store.set(this.key(id), payload);
  }

  async find(id) {
    return store.get(this.key(id));
  }

  async findByUid(uid) {
    for (const [key, payload] of store) if (key.startsWith(`${this.name}:`) && payload.uid === uid) return payload;
    return undefined;
  }

  async findByUserCode() {
    return undefined;
  }

  async consume(id) {
    const payload = store.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const [key, payload] of store) if (payload.grantId === grantId) store.delete(key);
  }
}

// Made as PEM and read back into a key of its own: node 20 can deadlock exporting the JWK of a
// generated key object when the garbage collector frees the job that made it (both lock the key).
const privateJwk = (type, options) => {
  const encodings = { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } };
  const { privateKey } = generateKeyPairSync(type, { ...options, ...encodings });
  return createPrivateKey(privateKey).export({ format: 'jwk' });
};
const jwks = {
  keys: [
    { ...privateJwk('rsa', { modulusLength: 2048 }), use: 'sig', alg: 'RS256', kid: 'rsa' },
    { ...privateJwk('ec', { namedCurve: 'P-256' }), use: 'sig', alg: 'ES256', kid: 'ec' },
  ],
};

const provider = new Provider('http://127.0.0.1', {
  adapter: MapAdapter,
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: ['http://127.0.0.1:9/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: alg,
    },
  ],
  jwks,
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, given_name: 'Bob', family_name: 'Smith', email: 'bob@example.org' }),
  }),
  claims: { openid: ['sub'], profile: ['given_name', 'family_name'], email: ['email'] },
  rotateRefreshToken: true,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, userinfo: { enabled: true } },
  enabledJWA: { idTokenSigningAlgValues: ['HS512', 'RS256', 'ES256'] },
  ttl: { AccessToken: 3600, IdToken: 3600, RefreshToken: 30 * 24 * 3600, Grant: 30 * 24 * 3600 },
  cookies: { keys: ['bench-cookie-key-0123456789'] },
});
provider.proxy = false;

const server = provider.listen(0, '127.0.0.1', async () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const client = await provider.Client.find(CLIENT_ID);
  const tokens = [];
  for (let i = 0; i < tokenCount; i += 1) {
    const grant = new provider.Grant({ accountId: `member-${i}`, clientId: CLIENT_ID });
    grant.addOIDCScope('openid offline_access profile email');
    const grantId = await grant.save();
    const refresh = new provider.RefreshToken({
      client,
      accountId: `member-${i}`,
      grantId,
      scope: 'openid offline_access profile email',
      gty: 'authorization_code',
      authTime: Math.floor(Date.now() / 1000),
    });
    tokens.push(await refresh.save());
  }
  console.log(`READY ${issuer}`);
  console.log(`TOKENS ${JSON.stringify(tokens)}`);
});
