#!/usr/bin/env node
// A real upstream OpenID provider for Gatehouse's relying-party tests: node `oidc-provider`,
// configured to look like Microsoft Entra ID (v2 endpoints) or like Okta (custom
// authorization server "default"), on 127.0.0.1 over plain http.
//
//   node tests/upstream/provider.mjs --profile entra|okta --port N [--tenant T]
//
// Prints one line `READY <issuer>` on stdout once it listens (`--port 0` picks a free port;
// the issuer names the real one), then a line `CLIENTS <json>` with the registered clients.
//
// Profiles
//   entra  issuer http://127.0.0.1:N/<tenant>/v2.0 (tenant default ae2d240f-abc1-def2-ghi3-jklmnop45678)
//          client `entra-client` / secret `entra-secret`: response types `code` and `id_token`
//          (code + PKCE when Gatehouse has a secret, id_token + form_post when it has none);
//          token endpoint accepts client_secret_post and client_secret_basic, as Entra does.
//          client `entra-code-only` / `entra-secret`: only `code` (asking it for an id_token gets
//          the provider's "response_type not allowed" error, like the seed's error table).
//          ID token: roles (["iMIS_OIDC_Access"] for staff), given_name, family_name, name,
//          preferred_username (the email), upn, email, login_hint, oid, tid, ver "2.0".
//   okta   issuer http://127.0.0.1:N/oauth2/default, client `okta-client` / secret `okta-secret`
//          (client_secret_basic, PKCE required). ID token: given_name, family_name, name, email,
//          email_verified, preferred_username, and the custom groups claim `imis_groups`
//          (["Everyone", "SysAdmin"] for staff, ["Everyone"] otherwise).
//   Both: discovery at <issuer>/.well-known/openid-configuration, RS256 only, every claim in
//   the ID token (conformIdTokenClaims: false), redirect URIs from GATEHOUSE_CALLBACK
//   (comma-separated; default http://127.0.0.1:8080/callback), `sid` in every ID token.
//   Sign-out: <issuer>/session/end (RP-Initiated Logout; post-logout redirect URIs are each
//   callback's <base>/signout/done); confirming it loads <base>/callback/logout?iss=&sid= in
//   hidden frames (Front-Channel Logout 1.0) before going on.
//
// Accounts (the login form's username is the email; every password is `password`):
//   staff@example.org Sam Staff (staff), admin@example.org Ada Admin (staff),
//   member@example.org Max Member (not staff), newstaff@example.org Nina New (staff).
//
// Login page: <issuer>/interaction/<uid>, a form with `login` (pre-filled from the
// authorization request's login_hint) and `password`; consent is granted automatically.
//
// Test hooks (on the provider's port, outside the issuer path):
//   POST /__test/rotate-keys              new signing key (new kid) for tokens issued from now on;
//                                         the JWKS publishes the new key first and keeps the old one
//                                         (pass {"drop_old": true} to publish only the new one)
//   GET  /__test/last-authorization       the query of the last authorization request (JSON), 404 if none
//   GET  /__test/authorizations           every authorization request's query, oldest first
//   GET  /__test/accounts                 all accounts
//   GET  /__test/accounts/<email>         one account: { sub, email, given_name, family_name, staff, claims }
//   POST /__test/accounts/<email>         JSON merged into the account (created when missing):
//                                         given_name, family_name, email (renames; sub stays), staff,
//                                         password, roles, groups, claims (extra ID token claims;
//                                         only names the claims map releases, e.g. employee_id)
//   POST /__test/tamper                   {"mode": M} spoils the next ID token the provider issues
//                                         (token response or form_post): wrong-issuer, wrong-audience,
//                                         expired, bad-signature, alg-none, hs256-public-key,
//                                         no-nonce, wrong-nonce, unknown-kid; {"mode": null} clears
//   GET  /__test/info                     issuer, profile, clients, current and published kids,
//                                         how often the JWKS was fetched, pending tamper
//   GET  /__test/mismatch/.well-known/openid-configuration
//                                         the real discovery document at a URL whose issuer it is not
//   GET  /__test/front-channel-logouts    every front-channel logout URL the sign-out page loaded
//   POST /__test/reset                    forgets authorizations and any pending tamper
//
// Set UPSTREAM_DEBUG=1 to log every request on stderr.

import { createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    profile: { type: 'string', default: 'entra' },
    port: { type: 'string', default: '0' },
    tenant: { type: 'string', default: 'ae2d240f-abc1-def2-ghi3-jklmnop45678' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

const PROFILE = args.profile;
if (!['entra', 'okta'].includes(PROFILE)) {
  console.error(`provider: --profile must be entra or okta, not ${PROFILE}`);
  process.exit(2);
}
const PORT = Number(args.port);
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) {
  console.error(`provider: --port must be a port number, not ${args.port}`);
  process.exit(2);
}
const TENANT = args.tenant;
if (!/^[A-Za-z0-9.-]+$/.test(TENANT)) {
  console.error(`provider: --tenant must be a tenant id or domain, not ${TENANT}`);
  process.exit(2);
}
const DEBUG = !!process.env.UPSTREAM_DEBUG;
const CALLBACKS = (process.env.GATEHOUSE_CALLBACK || 'http://127.0.0.1:8080/callback')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

// Gatehouse's front-channel logout URL and signed-out page, beside each callback URL.
const GATEHOUSE_BASES = CALLBACKS.map((c) => c.replace(/\/callback$/, ''));
const POST_LOGOUT_URIS = GATEHOUSE_BASES.map((b) => `${b}/signout/done`);

const PREFIX = PROFILE === 'entra' ? `/${TENANT}/v2.0` : '/oauth2/default';
const STAFF_ROLE = 'iMIS_OIDC_Access';
const STAFF_GROUP = 'SysAdmin';
const PASSWORD = 'password';

const log = (...parts) => {
  if (DEBUG) console.error(`[provider ${PROFILE}]`, ...parts);
};

// ---------------------------------------------------------------------------------------
// Accounts

/** email (lowercase) → account; sub → account. */
const accounts = new Map();
const bySub = new Map();

function subjectFor(email) {
  const digest = createHash('sha256').update(`${PROFILE}|${TENANT}|${email}|${randomBytes(8).toString('hex')}`).digest();
  // Entra: pairwise-looking base64url subject; Okta: 00u + 17 characters.
  return PROFILE === 'entra' ? digest.toString('base64url').slice(0, 43) : `00u${digest.toString('hex').slice(0, 17)}`;
}

function createAccount(email, data = {}) {
  const account = {
    sub: subjectFor(email.toLowerCase()),
    oid: randomUUID(),
    email,
    given_name: '',
    family_name: '',
    staff: false,
    password: PASSWORD,
    roles: undefined,
    groups: undefined,
    claims: {},
  };
  accounts.set(email.toLowerCase(), account);
  bySub.set(account.sub, account);
  return updateAccount(account, data);
}

function updateAccount(account, data) {
  for (const key of ['given_name', 'family_name', 'staff', 'password', 'roles', 'groups']) {
    if (data[key] !== undefined) account[key] = data[key];
  }
  if (data.claims && typeof data.claims === 'object') account.claims = { ...account.claims, ...data.claims };
  if (typeof data.email === 'string' && data.email && data.email !== account.email) {
    accounts.delete(account.email.toLowerCase());
    account.email = data.email;
    accounts.set(account.email.toLowerCase(), account);
  }
  return account;
}

createAccount('staff@example.org', { given_name: 'Sam', family_name: 'Staff', staff: true });
createAccount('admin@example.org', { given_name: 'Ada', family_name: 'Admin', staff: true });
createAccount('member@example.org', { given_name: 'Max', family_name: 'Member', staff: false });
createAccount('newstaff@example.org', { given_name: 'Nina', family_name: 'New', staff: true });

/** The claims the provider asserts for an account, shaped like the profile's ID tokens. */
function claimsOf(account) {
  const name = `${account.given_name} ${account.family_name}`.trim();
  const base = {
    sub: account.sub,
    name,
    given_name: account.given_name,
    family_name: account.family_name,
    email: account.email,
  };
  if (PROFILE === 'entra') {
    const roles = account.roles ?? (account.staff ? [STAFF_ROLE] : []);
    return {
      ...base,
      oid: account.oid,
      tid: TENANT,
      ver: '2.0',
      preferred_username: account.email,
      upn: account.email,
      // Entra's login_hint claim is an opaque value the app may send back as login_hint.
      login_hint: `O.${Buffer.from(`${account.oid}|${TENANT}|${account.email}`).toString('base64url')}`,
      // Entra leaves `roles` out when the user has none.
      ...(roles.length ? { roles } : {}),
      ...account.claims,
    };
  }
  const groups = account.groups ?? (account.staff ? ['Everyone', STAFF_GROUP] : ['Everyone']);
  return {
    ...base,
    email_verified: true,
    preferred_username: account.email,
    imis_groups: groups,
    ...account.claims,
  };
}

function accountView(account) {
  const { password: _password, ...rest } = account;
  return { ...rest, claims: claimsOf(account) };
}

// ---------------------------------------------------------------------------------------
// Keys

const PKCS8_PEM = { type: 'pkcs8', format: 'pem' };
const SPKI_PEM = { type: 'spki', format: 'pem' };

function newSigningKey() {
  // Made as PEM and read back into a key of its own: node 20 can deadlock exporting the JWK of
  // a generated key object when the garbage collector frees the job that made it meanwhile
  // (both lock the key), which hung a CI run here.
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: PKCS8_PEM, publicKeyEncoding: SPKI_PEM });
  const jwk = createPrivateKey(pem.privateKey).export({ format: 'jwk' });
  return { ...jwk, kid: randomBytes(12).toString('base64url'), alg: 'RS256', use: 'sig' };
}

const publicJwk = ({ kty, n, e, kid, alg, use }) => ({ kty, n, e, kid, alg, use });

let signingKeys = [newSigningKey()];

// ---------------------------------------------------------------------------------------
// Spoiled ID tokens (one-shot), for the relying party's negative tests

let tamperMode = null;
const TAMPER_MODES = new Set([
  'wrong-issuer',
  'wrong-audience',
  'expired',
  'bad-signature',
  'alg-none',
  'hs256-public-key',
  'no-nonce',
  'wrong-nonce',
  'unknown-kid',
  'no-exp',
  'no-sub',
]);

function signRs256(header, payload, jwk) {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(input), { key: jwk, format: 'jwk' });
  return `${input}.${signature.toString('base64url')}`;
}

function tamper(idToken, mode) {
  const [h, p, s] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  const key = signingKeys[0];
  const now = Math.floor(Date.now() / 1000);
  switch (mode) {
    case 'wrong-issuer':
      return signRs256(header, { ...payload, iss: `${payload.iss.replace(/\/$/, '')}-evil` }, key);
    case 'wrong-audience':
      return signRs256(header, { ...payload, aud: 'some-other-client' }, key);
    case 'expired':
      return signRs256(header, { ...payload, iat: now - 7200, exp: now - 3600 }, key);
    case 'bad-signature': {
      const sig = Buffer.from(s, 'base64url');
      sig[sig.length - 1] ^= 0x01;
      sig[0] ^= 0x80;
      return `${h}.${p}.${sig.toString('base64url')}`;
    }
    case 'alg-none': {
      const none = { alg: 'none', typ: header.typ ?? 'JWT' };
      return `${Buffer.from(JSON.stringify(none)).toString('base64url')}.${p}.`;
    }
    case 'hs256-public-key': {
      // The classic key-confusion attack: HMAC keyed with the public key as published.
      const pem = createPublicKey({ key: publicJwk(key), format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      const hs = { alg: 'HS256', typ: header.typ ?? 'JWT', kid: header.kid };
      const input = `${Buffer.from(JSON.stringify(hs)).toString('base64url')}.${p}`;
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    }
    case 'no-nonce': {
      const { nonce: _n, ...rest } = payload;
      return signRs256(header, rest, key);
    }
    case 'wrong-nonce':
      return signRs256(header, { ...payload, nonce: 'not-the-nonce-you-sent' }, key);
    case 'no-exp': {
      const { exp: _e, ...rest } = payload;
      return signRs256(header, rest, key);
    }
    case 'no-sub': {
      const { sub: _s, ...rest } = payload;
      return signRs256(header, rest, key);
    }
    case 'unknown-kid': {
      const stranger = newSigningKey();
      return signRs256({ ...header, kid: stranger.kid }, payload, stranger);
    }
    default:
      return idToken;
  }
}

// ---------------------------------------------------------------------------------------
// The provider

const authorizations = [];
// Front-channel logout URLs waiting for the sign-out form they were shown with (by its xsrf),
// and every one loaded so far (GET /__test/front-channel-logouts).
const pendingFrontChannel = new Map();
const frontChannelLogouts = [];

// The provider's sign-out question; remembers which front-channel logouts its "yes" starts.
async function logoutSource(ctx, form) {
  const { session } = ctx.oidc;
  const xsrf = form.match(/name="xsrf" value="([^"]+)"/)?.[1];
  if (xsrf && session?.authorizations) {
    const frames = [];
    for (const clientId of Object.keys(session.authorizations)) {
      const sid = session.sidFor(clientId);
      for (const base of GATEHOUSE_BASES) {
        frames.push(`${base}/callback/logout?${new URLSearchParams({ iss: issuer, sid })}`);
      }
    }
    pendingFrontChannel.set(xsrf, frames);
  }
  ctx.type = 'html';
  ctx.body = page(
    'Sign out',
    `<p>Do you want to sign out of your ${PROFILE === 'entra' ? 'Microsoft' : 'Okta'} account?</p>
${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}
let jwksFetches = 0;
let provider;
let issuer;
const cookieKeys = [randomBytes(32).toString('base64url')];

function clients() {
  if (PROFILE === 'entra') {
    return [
      {
        client_id: 'entra-client',
        client_secret: 'entra-secret',
        client_name: 'Gatehouse (Entra ID app registration)',
        redirect_uris: CALLBACKS,
        post_logout_redirect_uris: POST_LOGOUT_URIS,
        response_types: ['code', 'id_token'],
        grant_types: ['authorization_code', 'implicit'],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'RS256',
      },
      {
        client_id: 'entra-code-only',
        client_secret: 'entra-secret',
        client_name: 'Gatehouse (ID tokens not enabled)',
        redirect_uris: CALLBACKS,
        post_logout_redirect_uris: POST_LOGOUT_URIS,
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'RS256',
      },
    ];
  }
  return [
    {
      client_id: 'okta-client',
      client_secret: 'okta-secret',
      client_name: 'Gatehouse (Okta app integration)',
      redirect_uris: CALLBACKS,
      post_logout_redirect_uris: POST_LOGOUT_URIS,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
  ];
}

function makeProvider() {
  const p = new Provider(issuer, {
    clients: clients(),
    jwks: { keys: signingKeys },
    cookies: { keys: cookieKeys },
    claims:
      PROFILE === 'entra'
        ? {
          openid: ['sub', 'oid', 'tid', 'ver', 'roles', 'login_hint', 'employee_id'],
          profile: ['name', 'given_name', 'family_name', 'preferred_username', 'upn'],
          email: ['email'],
        }
        : {
          openid: ['sub', 'imis_groups', 'employee_id'],
          profile: ['name', 'given_name', 'family_name', 'preferred_username'],
          email: ['email', 'email_verified'],
        },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    conformIdTokenClaims: false,
    responseTypes: ['code', 'id_token', 'code id_token', 'none'],
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    clientAuthMethods: ['client_secret_post', 'client_secret_basic', 'none'],
    pkce: {
      // Okta's "Require PKCE"; Entra does not require it of confidential clients.
      required: (ctx, client) => PROFILE === 'okta' || client.clientAuthMethod === 'none',
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource },
    },
    interactions: {
      url: (ctx, interaction) => `${PREFIX}/interaction/${interaction.uid}`,
    },
    findAccount: async (ctx, sub) => {
      const account = bySub.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => claimsOf(account) };
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 120,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', Object.entries(out).map(([k, v]) => `<p><strong>${esc(k)}</strong>: ${esc(v)}</p>`).join(''));
    },
  });

  // The Entra profile registers loopback http redirect URIs for a client that may use the
  // implicit flow; oidc-provider follows the registration spec and refuses those for web
  // clients. Entra allows http://localhost-style redirects, so accept them here.
  const schema = p.Client.Schema.prototype;
  const original = schema.invalidate;
  schema.invalidate = function invalidate(message, code) {
    if (code === 'implicit-force-https' || code === 'implicit-forbid-localhost') return;
    original.call(this, message, code);
  };

  // Entra's wording for a response type the app registration does not enable (the seed's
  // error table: "response_type id_token is not enabled for the application").
  if (PROFILE === 'entra') {
    p.use(async (ctx, next) => {
      await next();
      const responseType = ctx.oidc?.params?.response_type;
      if (!responseType || !String(responseType).split(' ').includes('id_token')) return;
      const from = 'requested response_type is not allowed for this client';
      const to = "AADSTS700054: response_type 'id_token' is not enabled for the application.";
      if (typeof ctx.body === 'string' && ctx.body.includes(from)) {
        ctx.body = ctx.body.replace(from, to.replace(/'/g, '&#39;'));
      }
      const location = ctx.response.get('location');
      if (location && location.includes('error_description=')) {
        const url = new URL(location);
        if (url.searchParams.get('error_description') === from) url.searchParams.set('error_description', to);
        const fragment = new URLSearchParams(url.hash.slice(1));
        if (fragment.get('error_description') === from) {
          fragment.set('error_description', to);
          url.hash = fragment.toString();
        }
        ctx.response.set('location', url.href);
      }
    });
  }

  // Spoil the next ID token when a test asked for it.
  p.use(async (ctx, next) => {
    await next();
    if (!tamperMode) return;
    if (ctx.oidc?.route === 'token' && ctx.body && typeof ctx.body === 'object' && ctx.body.id_token) {
      log('tampering', tamperMode, 'in token response');
      ctx.body = { ...ctx.body, id_token: tamper(ctx.body.id_token, tamperMode) };
      tamperMode = null;
    } else if (typeof ctx.body === 'string' && ctx.body.includes('name="id_token" value="')) {
      log('tampering', tamperMode, 'in form_post');
      const mode = tamperMode;
      ctx.body = ctx.body.replace(/name="id_token" value="([^"]*)"/, (_, token) => `name="id_token" value="${tamper(token, mode)}"`);
      tamperMode = null;
    }
  });

  // Entra sends `sid` when the app registration adds it as an optional claim, Okta when the
  // app has front-channel logout on: here every ID token names the provider session.
  p.Client.prototype.includeSid = () => true;

  // Front-channel logout (OpenID Front-Channel Logout 1.0, which oidc-provider 9 no longer
  // implements): once the person confirms sign-out, the page loads each app's logout URL with
  // `iss` and `sid` in hidden frames, then goes on where the provider was sending them.
  p.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'end_session_confirm' || !ctx.oidc.params?.logout) return;
    const frames = pendingFrontChannel.get(String(ctx.oidc.params.xsrf));
    pendingFrontChannel.delete(String(ctx.oidc.params.xsrf));
    const target = ctx.response.get('location');
    if (!frames?.length || !target) return;
    log('front-channel logout frames', frames.join(' '));
    frontChannelLogouts.push(...frames);
    ctx.status = 200;
    ctx.remove('location');
    ctx.type = 'html';
    ctx.body = page(
      'Signing you out',
      `${frames.map((f) => `<iframe title="Signing out of an app" src="${esc(f)}" width="1" height="1"></iframe>`).join('\n')}
<p><a id="continue" href="${esc(target)}">Continue</a></p>
<script>
  let left = document.querySelectorAll('iframe').length;
  const go = () => location.replace(document.getElementById('continue').href);
  document.querySelectorAll('iframe').forEach((f) => f.addEventListener('load', () => { if (--left === 0) go(); }));
  setTimeout(go, 5000);
</script>`,
    );
  });

  p.on('server_error', (ctx, err) => console.error(`[provider ${PROFILE}] server_error`, err));
  p.on('authorization.error', (ctx, err) => log('authorization.error', err.message, err.error_description ?? ''));
  p.on('grant.error', (ctx, err) => log('grant.error', err.message, err.error_description ?? ''));
  return p;
}

// ---------------------------------------------------------------------------------------
// HTML

function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function page(title, body) {
  const brand = PROFILE === 'entra' ? 'Microsoft (test double)' : 'Okta (test double)';
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body>
<p class="brand">${esc(brand)}</p>
<h1>${esc(title)}</h1>
${body}
</body>
</html>`;
}

function loginPage(uid, { login = '', error, client } = {}) {
  return page(
    'Sign in',
    `${client ? `<p>to continue to <strong>${esc(client)}</strong></p>` : ''}
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="${esc(`${PREFIX}/interaction/${uid}/login`)}" autocomplete="off">
  <label for="login">Email</label>
  <input id="login" type="email" name="login" value="${esc(login)}" required>
  <label for="password">Password</label>
  <input id="password" type="password" name="password" required>
  <button type="submit">Sign in</button>
</form>`,
  );
}

// ---------------------------------------------------------------------------------------
// HTTP

function send(res, status, body, type = 'text/html; charset=utf-8', headers = {}) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(payload);
}

const json = (res, status, body) => send(res, status, body, 'application/json');

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(req) {
  const text = await readBody(req);
  if (!text.trim()) return {};
  return JSON.parse(text);
}

/** Grants what the authorization request asked for, so no consent screen is shown. */
async function autoConsent(details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const scope = String(params.scope || 'openid');
  grant.addOIDCScope(scope);
  if (prompt.details?.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details?.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  if (prompt.details?.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  return grant.save();
}

async function interaction(req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    return send(res, 400, page('Sign-in error', `<p>${esc(err.message)}</p>`));
  }
  if (details.uid !== uid) {
    return send(res, 400, page('Sign-in error', '<p>This sign-in page belongs to another sign-in.</p>'));
  }
  const client = await provider.Client.find(String(details.params.client_id));
  const clientName = client?.clientName ?? details.params.client_id;

  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'login') {
      return send(res, 200, loginPage(uid, { login: details.params.login_hint ?? '', client: clientName }));
    }
    // Consent (a session already exists): granted without asking.
    const grantId = await autoConsent(details);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  if (req.method === 'POST' && action === 'login') {
    const form = new URLSearchParams(await readBody(req));
    const login = (form.get('login') ?? '').trim();
    const account = accounts.get(login.toLowerCase());
    if (!account || form.get('password') !== account.password) {
      return send(res, 200, loginPage(uid, { login, error: 'Your account or password is incorrect.', client: clientName }));
    }
    log('login', account.email, account.sub);
    // Login and consent at once: the flow goes straight back to the client.
    const grantId = await autoConsent({ ...details, session: { accountId: account.sub } });
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.sub, remember: false }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }
  return send(res, 405, page('Not allowed', '<p>This page does not accept that request.</p>'));
}

async function testHook(req, res, path) {
  if (path === '/__test/rotate-keys' && req.method === 'POST') {
    const body = await readJson(req).catch(() => ({}));
    const previous = signingKeys[0];
    const fresh = newSigningKey();
    signingKeys = body.drop_old ? [fresh] : [fresh, ...signingKeys.map((k) => ({ ...k }))].slice(0, 3);
    provider = makeProvider();
    log('rotated keys', previous.kid, '→', fresh.kid);
    return json(res, 200, { kid: fresh.kid, previous_kid: previous.kid, published: signingKeys.map((k) => k.kid) });
  }
  if (path === '/__test/last-authorization' && req.method === 'GET') {
    const last = authorizations.at(-1);
    return last ? json(res, 200, last) : json(res, 404, { error: 'no authorization request yet' });
  }
  if (path === '/__test/authorizations' && req.method === 'GET') return json(res, 200, authorizations);
  if (path === '/__test/accounts' && req.method === 'GET') return json(res, 200, [...accounts.values()].map(accountView));
  const accountPath = path.match(/^\/__test\/accounts\/([^/]+)$/);
  if (accountPath) {
    const email = decodeURIComponent(accountPath[1]);
    let account = accounts.get(email.toLowerCase());
    if (req.method === 'GET') {
      return account ? json(res, 200, accountView(account)) : json(res, 404, { error: `no account ${email}` });
    }
    if (req.method === 'POST' || req.method === 'PUT') {
      let data;
      try {
        data = await readJson(req);
      } catch (err) {
        return json(res, 400, { error: `body is not JSON: ${err.message}` });
      }
      account = account ? updateAccount(account, data) : createAccount(email, data);
      return json(res, 200, accountView(account));
    }
  }
  if (path === '/__test/tamper' && req.method === 'POST') {
    const body = await readJson(req).catch(() => ({}));
    if (body.mode !== null && body.mode !== undefined && !TAMPER_MODES.has(body.mode)) {
      return json(res, 400, { error: `mode must be one of ${[...TAMPER_MODES].join(', ')}, or null` });
    }
    tamperMode = body.mode ?? null;
    return json(res, 200, { mode: tamperMode });
  }
  if (path === '/__test/info' && req.method === 'GET') {
    return json(res, 200, {
      profile: PROFILE,
      issuer,
      discovery: `${issuer}/.well-known/openid-configuration`,
      tenant: PROFILE === 'entra' ? TENANT : undefined,
      clients: clients().map(({ client_id, client_secret, response_types, token_endpoint_auth_method, redirect_uris }) => ({
        client_id,
        client_secret,
        response_types,
        token_endpoint_auth_method,
        redirect_uris,
      })),
      kid: signingKeys[0].kid,
      published_kids: signingKeys.map((k) => k.kid),
      jwks_fetches: jwksFetches,
      tamper: tamperMode,
    });
  }
  if (path === '/__test/mismatch/.well-known/openid-configuration' && req.method === 'GET') {
    // The real discovery document served from another URL: its issuer does not match there.
    const real = await fetch(`${issuer}/.well-known/openid-configuration`);
    return json(res, 200, await real.json());
  }
  if (path === '/__test/front-channel-logouts' && req.method === 'GET') return json(res, 200, frontChannelLogouts);
  if (path === '/__test/reset' && req.method === 'POST') {
    authorizations.length = 0;
    tamperMode = null;
    return json(res, 200, { ok: true });
  }
  return json(res, 404, { error: `no test hook ${req.method} ${path}` });
}

const handlers = new WeakMap();
function handlerFor(p) {
  if (!handlers.has(p)) handlers.set(p, p.callback());
  return handlers.get(p);
}

async function handle(req, res) {
  const url = new URL(req.url, `http://${req.headers.host || '127.0.0.1'}`);
  const path = url.pathname;
  log(req.method, req.url);

  if (path.startsWith('/__test/')) return testHook(req, res, path);

  if (!(path === PREFIX || path.startsWith(`${PREFIX}/`))) {
    return json(res, 404, { error: 'not found', hint: `the issuer is ${issuer}` });
  }
  const rest = path.slice(PREFIX.length) || '/';

  const interactionPath = rest.match(/^\/interaction\/([^/]+)(?:\/(login))?$/);
  if (interactionPath) return interaction(req, res, interactionPath[1], interactionPath[2]);

  if (rest === '/jwks' && req.method === 'GET') jwksFetches += 1;
  if (rest === '/auth' && req.method === 'GET') {
    authorizations.push(Object.fromEntries(url.searchParams));
  }

  // Entra accepts the client secret in the body and in a Basic header alike.
  if (PROFILE === 'entra' && rest === '/token' && req.method === 'POST' && /^basic /i.test(req.headers.authorization ?? '')) {
    const decoded = Buffer.from(req.headers.authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const unform = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    const form = new URLSearchParams(await readBody(req));
    form.set('client_id', unform(decoded.slice(0, colon)));
    form.set('client_secret', unform(decoded.slice(colon + 1)));
    delete req.headers.authorization;
    req.body = form.toString();
    log('token: client_secret_basic rewritten to client_secret_post');
  }

  // Mount the provider under the issuer's path.
  req.originalUrl = req.url;
  req.url = req.url.slice(PREFIX.length) || '/';
  return handlerFor(provider)(req, res);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error(`[provider ${PROFILE}] error`, err);
    if (!res.headersSent) send(res, 500, page('Error', `<p>${esc(err.message)}</p>`));
    else res.end();
  });
});

server.listen(PORT, args.host, () => {
  const { port } = server.address();
  issuer = `http://${args.host}:${port}${PREFIX}`;
  provider = makeProvider();
  process.stdout.write(`READY ${issuer}\n`);
  process.stdout.write(`CLIENTS ${JSON.stringify(clients().map((c) => ({ client_id: c.client_id, client_secret: c.client_secret, response_types: c.response_types })))}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
