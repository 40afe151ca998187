// End-to-end tests of Gatehouse as a relying party to a real OpenID provider (node
// `oidc-provider`, configured like Entra ID and like Okta by provider.mjs), driven over HTTP
// the way a browser would, against a Gatehouse that is already running.
//
//   GATEHOUSE_URL=http://127.0.0.1:8080 GATEHOUSE_ADMIN_PASSWORD=... node --test upstream/
//
// The providers run on free loopback ports (started in `before`, stopped in `after`); they
// send the browser back to $GATEHOUSE_URL/callback. The tests change Gatehouse's OIDC settings
// and leave OIDC Disabled when they finish.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  Browser,
  CALLBACK,
  GATEHOUSE,
  adminApi,
  adminCall,
  configure,
  createContact,
  decodeEntities,
  disableOidc,
  findContacts,
  logs,
  pageText,
  parseForms,
  passwordGrant,
  settingsFor,
  startProvider,
} from './lib.mjs';
import {
  RUN,
  assertRefused,
  assertSignedIn,
  callbackEntries,
  contactById,
  emailPage,
  formWith,
  isClientError,
  isProvider,
  linkedContact,
  nextNumber,
  providerAccount,
  providerButtonForm,
  providerLogin,
  signInThroughProvider,
  submitEmail,
  submitPassword,
  trackProvider,
  whoAmI,
} from './flows.mjs';

const NOT_STAFF = 'Is not a staff user in the OpenID provider, according to the staff claim configured in the settings.';
const APP_REDIRECT = 'https://app.example.org/sso/callback';

const providers = {};
let otherTenant;

before(async () => {
  if (!ADMIN_PASSWORD) throw new Error('GATEHOUSE_ADMIN_PASSWORD is not set');
  const res = await fetch(`${GATEHOUSE}/.well-known/openid-configuration`).catch((e) => {
    throw new Error(`no Gatehouse answers at ${GATEHOUSE}: ${e.message}`);
  });
  assert.equal(res.status, 200, `Gatehouse discovery at ${GATEHOUSE}`);
  [providers.entra, providers.okta, otherTenant] = (
    await Promise.all([
      startProvider('entra'),
      startProvider('okta'),
      startProvider('entra', { tenant: 'b7e1c0de-0000-4000-8000-other0tenant' }),
    ])
  ).map(trackProvider);
});

after(async () => {
  await disableOidc().catch(() => {});
  await Promise.all([providers.entra?.stop(), providers.okta?.stop(), otherTenant?.stop()]);
});

// ---------------------------------------------------------------------------------------
// The client app (for Staff & Public through Gatehouse's OpenID Provider)

async function ensureQueries() {
  const { status } = await adminCall('GET', '/queries/$/SSO/ProfileData');
  if (status === 200) return;
  await adminApi('POST', '/queries', {
    path: '$/SSO/ProfileData',
    kind: 'profile',
    columns: [
      { source: 'first_name', alias: 'given_name' },
      { source: 'last_name', alias: 'family_name' },
      { source: 'email', alias: 'email' },
      { source: 'member_type', alias: 'member_type' },
      { source: 'status', alias: 'AccessRestrictionCode' },
      { source: 'attributes.city', alias: 'address.locality' },
    ],
  });
  await adminApi('POST', '/queries', { path: '$/SSO/RoleData', kind: 'role', columns: [{ source: 'roles', alias: 'Role' }] });
}

async function registerApp(name, grantTypes = []) {
  await ensureQueries();
  return adminApi('POST', '/registrations', {
    name,
    redirect_urls: [APP_REDIRECT],
    profile_query: '$/SSO/ProfileData',
    role_query: '$/SSO/RoleData',
    role_format: 'array',
    id_token_fields: ['member_type'],
    no_access_mapping: '',
    grant_types: grantTypes,
  });
}

// ---------------------------------------------------------------------------------------
// Settings

describe('OIDC settings', () => {
  test('saving checks the discovery document, needs confirmation for Enabled, and never shows the secret', async () => {
    const entra = providers.entra;
    const saved = await configure(entra, { mode: 'test' });
    assert.equal(saved.mode, 'test');
    assert.equal(saved.authority_url, entra.issuer);
    assert.ok(!JSON.stringify(saved).includes('entra-secret'), `the secret is not shown back: ${JSON.stringify(saved)}`);
    const read = await adminApi('GET', '/oidc-settings');
    assert.ok(!JSON.stringify(read).includes('entra-secret'), 'GET does not show the secret');
    assert.equal(read.provider, 'entra');

    const unconfirmed = await adminCall('PUT', '/oidc-settings', { ...settingsFor(entra, { mode: 'enabled' }), confirm: false });
    assert.ok(isClientError(unconfirmed.status), `${unconfirmed.status} ${JSON.stringify(unconfirmed.body)}`);
    assert.equal(unconfirmed.body.field, 'confirm');

    // A closed port: discovery unreachable → a clear error, nothing saved.
    const closed = `http://127.0.0.1:9/${entra.tenant}/v2.0`;
    const unreachable = await adminCall('PUT', '/oidc-settings', settingsFor(entra, { authority_url: closed }));
    assert.ok(isClientError(unreachable.status), `${unreachable.status} ${JSON.stringify(unreachable.body)}`);
    assert.equal(unreachable.body.field, 'authority_url');
    // A discovery document whose issuer is not the Authority URL it was fetched from.
    const wrongIssuer = await adminCall('PUT', '/oidc-settings', settingsFor(entra, { authority_url: `${entra.origin}/__test/mismatch` }));
    assert.ok(isClientError(wrongIssuer.status), `${wrongIssuer.status} ${JSON.stringify(wrongIssuer.body)}`);
    assert.equal((await adminApi('GET', '/oidc-settings')).authority_url, entra.issuer, 'the failed saves changed nothing');

    const withMfa = await adminCall('PUT', '/oidc-settings', settingsFor(entra, { mfa: 'optional' }));
    assert.ok(isClientError(withMfa.status), `OIDC and MFA exclude each other: ${withMfa.status} ${JSON.stringify(withMfa.body)}`);
    // OIDC is on already: turning MFA on asks for the seed's confirmation first (it would turn OIDC off).
    assert.equal(withMfa.body.field, 'confirm_switch');
    assert.match(withMfa.body.error, /If MFA is enabled, then OIDC is disabled/);
  });
});

// ---------------------------------------------------------------------------------------
// The main flows, on both profiles

for (const profile of ['entra', 'okta']) {
  describe(`${profile}: main flows`, () => {
    test('Test mode: staff chooses the provider and is signed in', async () => {
      const provider = providers[profile];
      await configure(provider, { mode: 'test' });
      const account = await providerAccount(provider, 'teststaff');
      const contact = await linkedContact(account);
      const browser = new Browser();
      const result = await signInThroughProvider(browser, account.email, { expectChoice: true });
      assert.ok(result.choicePage.text.includes('type="password"'), 'staff in Test mode may also use their password');
      assertSignedIn(result, '/account');
      assert.equal((await whoAmI(browser))?.username, contact.username);
    });

    test('Test mode: staff may still use their password', async () => {
      const provider = providers[profile];
      await configure(provider, { mode: 'test' });
      const account = await providerAccount(provider, 'testpw');
      const contact = await linkedContact(account);
      const browser = new Browser();
      const choice = await submitEmail(browser, account.email);
      assert.ok(!isProvider(choice.url), 'Test mode: the staff user gets a choice, not a redirect');
      assert.ok(providerButtonForm(choice.text), 'the choice offers "Sign in with …"');
      const done = await submitPassword(browser, choice, contact.password);
      assert.equal(done.chain[0].status, 303, `password accepted: ${pageText(done.chain[0].text).slice(0, 300)}`);
      assert.equal(done.chain[0].location, '/account');
      assert.equal((await whoAmI(browser))?.username, contact.username);
    });

    test('Enabled: staff go straight to the provider; their password is refused', async () => {
      const provider = providers[profile];
      await configure(provider, { mode: 'enabled', confirm: true });
      const account = await providerAccount(provider, 'enabledstaff');
      const contact = await linkedContact(account);

      const result = await signInThroughProvider(new Browser(), account.email, { expectChoice: false });
      assertSignedIn(result, '/account');

      // The password form posted directly (what an old bookmark or a script would do).
      const browser = new Browser();
      const { page, form } = await emailPage(browser);
      const refused = await browser.request(`${GATEHOUSE}/signin`, {
        method: 'POST',
        initiator: new URL(GATEHOUSE).origin,
        form: { csrf_token: form.fields.csrf_token, username: contact.username, password: contact.password },
      });
      assert.notEqual(refused.status, 303, `a staff password must not sign in while Enabled: ${refused.status} ${refused.location}`);
      assert.ok(!refused.headers.getSetCookie().some((c) => /^gatehouse_session=[^;]+/.test(c)), 'no session');
      assert.equal(await whoAmI(browser), null);
      assert.ok(formWith(page.text, 'email'));
    });

    test('Enabled: a system administrator may use their password, or the provider', async () => {
      const provider = providers[profile];
      await configure(provider, { mode: 'enabled', confirm: true });
      const account = await providerAccount(provider, 'sysadmin');
      const contact = await linkedContact(account, { sysadmin: true, label: 'sysadmin' });

      const browser = new Browser();
      const choice = await submitEmail(browser, account.email);
      assert.ok(!isProvider(choice.url), 'a sysadmin gets the choice (the seed\'s Figure 3)');
      assert.ok(providerButtonForm(choice.text), 'with "Sign in with …"');
      const done = await submitPassword(browser, choice, contact.password);
      assert.equal(done.chain[0].status, 303, `password accepted: ${pageText(done.chain[0].text).slice(0, 300)}`);
      assert.equal(done.chain[0].location, '/admin');

      const viaProvider = await signInThroughProvider(new Browser(), account.email, { expectChoice: true });
      assertSignedIn(viaProvider, '/admin');
    });

    test('Enabled, Staff Only: a public user keeps their password', async () => {
      const provider = providers[profile];
      await configure(provider, { mode: 'enabled', confirm: true, require_for: 'staff' });
      const n = nextNumber();
      const member = await createContact({
        username: `member-${n}-${RUN}`,
        email: `member-${n}-${RUN}@example.org`,
        password: `pw-${RUN}-member`,
      });
      const browser = new Browser();
      const next = await submitEmail(browser, member.email);
      assert.ok(!isProvider(next.url), 'not sent to the provider');
      assert.ok(!providerButtonForm(next.text), 'no "Sign in with …" for a public user under Staff Only');
      const done = await submitPassword(browser, next, member.password);
      assert.equal(done.chain[0].status, 303, `password accepted: ${pageText(done.chain[0].text).slice(0, 300)}`);
      assert.equal((await whoAmI(browser))?.username, member.username);
    });

    test('External Claim ID: the user is linked by the configured claim, and refused without it', async () => {
      const provider = providers[profile];
      await configure(provider, { mode: 'enabled', confirm: true, external_claim_id: 'employee_id' });
      const account = await providerAccount(provider, 'employee');
      const employeeId = `E-${nextNumber()}-${RUN}`;
      await provider.setAccount(account.email, { claims: { employee_id: employeeId } });
      const contact = await linkedContact({ ...account, linkId: employeeId }, { label: 'employee' });
      const browser = new Browser();
      assertSignedIn(await signInThroughProvider(browser, account.email), '/account');
      assert.equal((await whoAmI(browser))?.username, contact.username);

      const without = await providerAccount(provider, 'noemployeeid');
      const refused = await signInThroughProvider(new Browser(), without.email);
      assertRefused(refused, 'employee_id');
      assert.deepEqual(await findContacts(without.email), [], 'nobody created without the claim');
    });

    test('JIT: a new staff user is created with names and email (email as username), and synced later', async () => {
      const provider = providers[profile];
      await configure(provider, { mode: 'enabled', confirm: true });
      const account = await providerAccount(provider, 'newstaff', { given_name: 'Nina', family_name: 'New' });
      assert.deepEqual(await findContacts(account.email), [], 'nobody has this email yet');

      const first = new Browser();
      assertSignedIn(await signInThroughProvider(first, account.email), '/account');
      const [created, ...others] = await findContacts(account.email);
      assert.equal(others.length, 0);
      assert.equal(created.username, account.email, 'the email is the username');
      assert.equal(created.email, account.email);
      assert.equal(created.first_name, 'Nina');
      assert.equal(created.last_name, 'New');
      assert.equal(created.is_staff, true);
      assert.equal(created.is_sysadmin, false);
      assert.equal((await whoAmI(first))?.username, account.email);

      // The directory changes the person's names and email; the next sign-in brings them over.
      const newEmail = `renamed-${nextNumber()}-${RUN}@example.org`;
      await provider.setAccount(account.email, { given_name: 'Nina', family_name: 'Newer', email: newEmail });
      const second = new Browser();
      assertSignedIn(await signInThroughProvider(second, newEmail), '/account');
      const synced = await contactById(created.id);
      assert.equal(synced.first_name, 'Nina');
      assert.equal(synced.last_name, 'Newer');
      assert.equal(synced.email, newEmail, 'the email follows the directory');
      assert.equal(synced.username, account.email, 'the username stays');
      assert.deepEqual(await findContacts(newEmail).then((c) => c.map((x) => x.id)), [created.id], 'no second user');

      // While OIDC is on, the synced names and email are read-only in the admin.
      const draft = (changes) => ({
        username: synced.username,
        email: synced.email,
        first_name: synced.first_name,
        last_name: synced.last_name,
        is_staff: synced.is_staff,
        is_sysadmin: synced.is_sysadmin,
        status: synced.status,
        member_type: synced.member_type,
        roles: synced.roles,
        attributes: synced.attributes,
        external_id: synced.external_id,
        ...changes,
      });
      for (const changes of [{ first_name: 'Changed' }, { last_name: 'Changed' }, { email: `changed-${RUN}@example.org` }]) {
        const edit = await adminCall('PUT', `/contacts/${created.id}`, draft(changes));
        assert.equal(edit.status, 409, `editing ${Object.keys(changes)[0]} of a synced user: ${edit.status} ${JSON.stringify(edit.body)}`);
      }
      const unchanged = await adminCall('PUT', `/contacts/${created.id}`, draft({ member_type: 'STAFF' }));
      assert.equal(unchanged.status, 200, `other fields stay editable: ${JSON.stringify(unchanged.body)}`);
    });

    test('missing staff claim: the seed\'s message, no session, no user', async () => {
      const provider = providers[profile];
      await configure(provider, { mode: 'enabled', confirm: true, require_for: 'staff' });
      const account = await providerAccount(provider, 'notstaff', { staff: false, given_name: 'Max', family_name: 'Member' });
      const browser = new Browser();
      const result = await signInThroughProvider(browser, account.email);
      assertRefused(result, NOT_STAFF);
      assert.equal(await whoAmI(browser), null);
      assert.deepEqual(await findContacts(account.email), [], 'no user was created');
      const entries = (await logs({ contains: account.email })).entries;
      assert.ok(entries.some((e) => e.message.includes('Is not a staff user')), `logged: ${JSON.stringify(entries.map((e) => e.message))}`);
    });

    test('login hint: sent to the provider and pre-filled on its login form; not sent when off', async () => {
      const provider = providers[profile];
      await configure(provider, { mode: 'enabled', confirm: true, login_hint: true });
      const account = await providerAccount(provider, 'hint');
      const page = await submitEmail(new Browser(), account.email);
      assert.ok(isProvider(page.url));
      const sent = await provider.lastAuthorization();
      assert.equal(sent.login_hint, account.email);
      assert.equal(formWith(page.text, 'login').fields.login, account.email, 'the provider pre-filled the email');
      assert.equal(sent.client_id, profile === 'entra' ? 'entra-client' : 'okta-client');
      assert.equal(sent.redirect_uri, CALLBACK);
      assert.equal(sent.response_type, 'code');
      assert.ok(sent.state && sent.state.length >= 22, `a state: ${sent.state}`);
      assert.ok(sent.nonce && sent.nonce.length >= 22, `a nonce: ${sent.nonce}`);
      assert.equal(sent.code_challenge_method, 'S256');
      assert.match(sent.code_challenge, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(sent.scope.split(' ').sort(), ['email', 'openid', 'profile']);

      const again = await submitEmail(new Browser(), account.email);
      const second = await provider.lastAuthorization();
      assert.notEqual(second.state, sent.state, 'a new state for every redirect');
      assert.notEqual(second.nonce, sent.nonce, 'a new nonce for every redirect');
      assert.notEqual(second.code_challenge, sent.code_challenge, 'a new PKCE challenge for every redirect');
      assert.ok(again);

      await configure(provider, { mode: 'enabled', confirm: true, login_hint: false });
      const plain = await submitEmail(new Browser(), account.email);
      assert.equal((await provider.lastAuthorization()).login_hint, undefined, 'no login_hint when "Set login hint" is off');
      assert.equal(formWith(plain.text, 'login').fields.login, '', 'nothing pre-filled');
    });

    test('Staff & Public: a member reaches a client app through the provider and the app gets its code', async () => {
      const provider = providers[profile];
      await configure(provider, { mode: 'enabled', confirm: true, require_for: 'staff_and_public' });
      const app = await registerApp(`RP ${profile} app ${RUN}`);
      const account = await providerAccount(provider, 'public', { staff: false, given_name: 'Pia', family_name: 'Public' });
      const browser = new Browser();
      const verifier = randomBytes(32).toString('base64url');
      const appState = randomBytes(12).toString('base64url');
      const authorize = new URL('/authorize', GATEHOUSE);
      for (const [k, v] of Object.entries({
        client_id: app.client_id,
        redirect_uri: APP_REDIRECT,
        response_type: 'code',
        scope: 'openid profile',
        state: appState,
        nonce: randomBytes(12).toString('base64url'),
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      })) authorize.searchParams.set(k, v);

      const toSignin = await browser.navigate(authorize, { initiator: 'https://app.example.org' });
      const emailForm = formWith(toSignin.text, 'email');
      assert.ok(emailForm, `/authorize leads to the email-only sign-in: ${toSignin.url} ${pageText(toSignin.text).slice(0, 300)}`);
      assert.ok(emailForm.fields.return_to?.startsWith('/authorize?'), `the form keeps return_to: ${emailForm.fields.return_to}`);
      const atProvider = await browser.submit(toSignin.url, emailForm, { email: account.email });
      assert.ok(isProvider(atProvider.url), `Staff & Public: a public user goes to the provider: ${atProvider.url} ${pageText(atProvider.text).slice(0, 300)}`);

      const stopAt = (url) => url.origin === 'https://app.example.org';
      let end = await providerLogin(browser, atProvider, { login: account.email, stopAt });
      const callback = callbackEntries(end).at(-1);
      assert.equal(callback?.status, 303, `callback: ${callback?.status} ${pageText(callback?.text ?? '').slice(0, 300)}`);
      assert.ok(callback.location.startsWith('/authorize?'), `back to /authorize: ${callback.location}`);
      if (!end.stopped) {
        const consent = parseForms(end.text).find((f) => f.action === '/authorize/consent');
        assert.ok(consent, `the consent page: ${pageText(end.text).slice(0, 300)}`);
        end = await browser.submit(end.url, consent, { decision: 'allow' }, { stopAt });
      }
      assert.ok(end.stopped, `ended at the app: ${end.url}`);
      const back = new URL(end.url);
      assert.equal(`${back.origin}${back.pathname}`, APP_REDIRECT);
      assert.equal(back.searchParams.get('state'), appState);
      const code = back.searchParams.get('code');
      assert.ok(code, `the app got a code: ${back.href}`);

      // The app redeems it: the ID token is about the person the provider signed in.
      const res = await fetch(`${GATEHOUSE}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: APP_REDIRECT,
          code_verifier: verifier,
          client_id: app.client_id,
          client_secret: app.client_secret,
        }),
      });
      const tokens = await res.json();
      assert.equal(res.status, 200, JSON.stringify(tokens));
      const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url').toString());
      const [member] = await findContacts(account.email);
      assert.ok(member, 'the public user was created just in time');
      assert.equal(member.is_staff, false);
      assert.equal(member.first_name, 'Pia');
      assert.ok(claims.sub, JSON.stringify(claims));
    });

    test('unknown kid: after the provider rotates its keys, sign-in still works', async () => {
      const provider = providers[profile];
      await configure(provider, { mode: 'enabled', confirm: true, require_for: 'staff' });
      const account = await providerAccount(provider, 'rotation');
      assertSignedIn(await signInThroughProvider(new Browser(), account.email), '/account');
      const rotated = await provider.rotateKeys({ drop_old: true });
      assert.notEqual(rotated.kid, rotated.previous_kid);
      const fetchesBefore = (await provider.info()).jwks_fetches;
      assertSignedIn(await signInThroughProvider(new Browser(), account.email), '/account');
      assert.ok((await provider.info()).jwks_fetches > fetchesBefore, 'Gatehouse fetched the keys again for the unknown kid');
    });
  });
}

// ---------------------------------------------------------------------------------------
// Entra ID without a client secret: response_type=id_token, response_mode=form_post

describe('entra: ID token by form_post (no client secret)', () => {
  test('the redirect asks for an id_token by form_post; the POST to /callback signs in', async () => {
    const provider = providers.entra;
    await configure(provider, { mode: 'enabled', confirm: true, secret: false });
    const account = await providerAccount(provider, 'formpost');
    const contact = await linkedContact(account);
    const browser = new Browser();
    const result = await signInThroughProvider(browser, account.email);
    const sent = await provider.lastAuthorization();
    assert.equal(sent.response_type, 'id_token');
    assert.equal(sent.response_mode, 'form_post');
    assert.ok(sent.nonce, 'a nonce (required for id_token)');
    assert.equal(result.callback?.method, 'POST', 'the provider posted the ID token back');
    assertSignedIn(result, '/account');
    assert.equal((await whoAmI(browser))?.username, contact.username);
  });

  test('a provider error ("response_type id_token is not enabled") is shown with the seed\'s hint and logged', async () => {
    const provider = providers.entra;
    await configure(provider, { mode: 'enabled', confirm: true, secret: false, client_id: 'entra-code-only' });
    const account = await providerAccount(provider, 'noidtoken');
    const browser = new Browser();
    // The provider refuses before showing a login page and posts the error back.
    const end = await submitEmail(browser, account.email);
    const callback = callbackEntries(end).at(-1);
    assert.ok(callback, `the error came back to /callback: ${end.url} ${pageText(end.text).slice(0, 300)}`);
    assert.ok(callback.status >= 400, `refused: ${callback.status}`);
    const text = pageText(callback.text);
    assert.match(text, /response_type/i, text);
    assert.ok(text.includes('Ensure the Access tokens and ID tokens are enabled on the application.'), `the seed's hint: ${text}`);
    const entries = (await logs({ level: 'error', contains: 'response_type' })).entries;
    assert.ok(entries.length > 0, 'the provider\'s error is in the OIDC log at level error');
  });
});

// ---------------------------------------------------------------------------------------
// Password grant rules while OIDC is Enabled

describe('password grant rules', () => {
  test('Enabled: a staff user cannot get tokens with a password; a system administrator can', async () => {
    const provider = providers.entra;
    const app = await registerApp(`RP ROPC app ${RUN}`, ['password_confidential']);
    const staffAccount = await providerAccount(provider, 'ropcstaff');
    const staff = await linkedContact(staffAccount);
    const adminAccount = await providerAccount(provider, 'ropcadmin');
    const sysadmin = await linkedContact(adminAccount, { sysadmin: true, label: 'ropcsysadmin' });
    const ropc = (who) =>
      passwordGrant({ username: who.username, password: who.password, scope: 'openid' }, { basic: [app.client_id, app.client_secret] });

    await configure(provider, { mode: 'test' });
    const inTest = await ropc(staff);
    assert.equal(inTest.status, 200, `Test mode: staff passwords still work: ${JSON.stringify(inTest.body)}`);

    await configure(provider, { mode: 'enabled', confirm: true });
    const refused = await ropc(staff);
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'invalid_grant');
    const allowed = await ropc(sysadmin);
    assert.equal(allowed.status, 200, `a sysadmin's password still works: ${JSON.stringify(allowed.body)}`);

    // The built-in admin client: sysadmins keep getting admin API tokens with a password.
    const adminToken = await passwordGrant({ client_id: 'gatehouse-admin', username: ADMIN_USERNAME, password: ADMIN_PASSWORD, scope: 'admin' });
    assert.equal(adminToken.status, 200, JSON.stringify(adminToken.body));
    const staffAdminToken = await passwordGrant({ client_id: 'gatehouse-admin', username: staff.username, password: staff.password, scope: 'admin' });
    assert.equal(staffAdminToken.status, 400, JSON.stringify(staffAdminToken.body));

    // Refresh tokens keep working for staff (the seed: external SSO apps keep refresh_token).
    const refresh = inTest.body.refresh_token;
    if (refresh) {
      const res = await fetch(`${GATEHOUSE}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(app.client_id)}:${encodeURIComponent(app.client_secret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh }),
      });
      assert.equal(res.status, 200, `refresh_token still works while Enabled: ${await res.text()}`);
    }
  });
});

// ---------------------------------------------------------------------------------------
// Negative tests

describe('callback: state', () => {
  test('a response without state, with an unknown state, or replayed, is refused', async () => {
    const provider = providers.entra;
    await configure(provider, { mode: 'enabled', confirm: true });
    const account = await providerAccount(provider, 'state');
    const contact = await linkedContact(account);

    // Sign in, but stop before the browser reaches /callback, to hold the response.
    const browser = new Browser();
    const atProvider = await submitEmail(browser, account.email);
    const held = await providerLogin(browser, atProvider, { stopAt: (url) => url.pathname === '/callback' });
    assert.ok(held.stopped, `held the response: ${held.url}`);
    const response = new URL(held.url);
    const { code, state } = Object.fromEntries(response.searchParams);
    assert.ok(code && state);

    const missing = await browser.request(`${GATEHOUSE}/callback?code=${encodeURIComponent(code)}`, { initiator: provider.origin });
    assert.equal(missing.status, 403, `no state: ${missing.status}`);
    const wrong = await browser.request(`${GATEHOUSE}/callback?code=${encodeURIComponent(code)}&state=${randomBytes(24).toString('base64url')}`, {
      initiator: provider.origin,
    });
    assert.equal(wrong.status, 403, `unknown state: ${wrong.status}`);
    assert.equal(await whoAmI(browser), null);

    // The genuine response signs in once…
    const first = await browser.navigate(response.href, { initiator: provider.origin });
    assertSignedIn({ final: first, callback: callbackEntries(first)[0] }, '/account');
    assert.equal((await whoAmI(browser))?.username, contact.username);
    // …and is refused when replayed, in this browser or another.
    const replay = await new Browser().request(response.href, { initiator: provider.origin });
    assert.equal(replay.status, 403, `replayed: ${replay.status}`);
    assert.ok(!replay.headers.getSetCookie().some((c) => /^gatehouse_session=[^;]+/.test(c)));
  });

  test('a response is refused in a browser other than the one that started the sign-in (login CSRF)', async () => {
    const provider = providers.entra;
    await configure(provider, { mode: 'enabled', confirm: true });
    // The attacker signs in with their own account and stops before /callback…
    const attacker = await providerAccount(provider, 'attacker');
    await linkedContact(attacker, { label: 'attacker' });
    const attackerBrowser = new Browser();
    const atProvider = await submitEmail(attackerBrowser, attacker.email);
    const held = await providerLogin(attackerBrowser, atProvider, { stopAt: (url) => url.pathname === '/callback' });
    assert.ok(held.stopped);
    // …and gets the victim's browser to open the response (a link, an image, an auto-submitted form).
    const victim = new Browser();
    await victim.navigate(`${GATEHOUSE}/signin`);
    const forced = await victim.navigate(held.url, { initiator: 'https://attacker.example' });
    const callback = callbackEntries(forced)[0];
    assert.ok(
      callback.status >= 400 || !callback.headers.getSetCookie().some((c) => /^gatehouse_session=[^;]+/.test(c)),
      `the victim's browser must not be signed in as the attacker (state must be bound to the browser that started the sign-in, RFC 6749 §10.12): /callback answered ${callback.status} → ${callback.location}`,
    );
  });
});

describe('callback: ID token checks', () => {
  // mode, what it is, what the refusal must be about (Gatehouse's page names the failed check)
  const modes = [
    ['wrong-issuer', 'an ID token from another issuer', /issuer/i],
    ['wrong-audience', 'an ID token for another client', /audience/i],
    ['expired', 'an expired ID token', /expired/i],
    ['bad-signature', 'a bad signature', /signature/i],
    ['alg-none', 'alg: none', /signature|alg/i],
    ['hs256-public-key', 'HS256 signed with the public key', /signature|alg/i],
    ['no-nonce', 'no nonce', /nonce/i],
    ['wrong-nonce', 'a wrong nonce', /nonce/i],
    ['unknown-kid', 'a key the provider never published', /signature|key/i],
  ];
  for (const flow of ['code', 'form_post']) {
    for (const [mode, what, reason] of modes) {
      test(`${flow}: ${what} is refused`, async () => {
        const provider = providers.entra;
        await configure(provider, { mode: 'enabled', confirm: true, ...(flow === 'form_post' ? { secret: false } : {}) });
        const account = await providerAccount(provider, `tamper-${mode}`);
        await linkedContact(account);
        await provider.tamper(mode);
        const browser = new Browser();
        try {
          const result = await signInThroughProvider(browser, account.email);
          assert.equal((await provider.info()).tamper, null, 'the provider spoiled the ID token');
          assertRefused(result);
          assert.match(pageText(result.callback.text), reason);
          assert.equal(await whoAmI(browser), null);
        } finally {
          await provider.tamper(null);
        }
      });
    }
  }
});

describe('linking', () => {
  test('an email asserted by another issuer does not sign in as the existing user', async () => {
    const home = providers.entra;
    await configure(home, { mode: 'test' });
    const account = await providerAccount(home, 'victim');
    const victim = await linkedContact(account, { label: 'victim' });
    assertSignedIn(await signInThroughProvider(new Browser(), account.email), '/account');

    // Another tenant (another issuer) has an account with the same email.
    await configure(otherTenant, { mode: 'test' });
    const impostor = await otherTenant.setAccount(account.email, { staff: true, given_name: 'Eve', family_name: 'Impostor' });
    assert.notEqual(`${otherTenant.issuer}|${impostor.sub}`, account.linkId);
    const browser = new Browser();
    const result = await signInThroughProvider(browser, account.email);
    const me = await whoAmI(browser);
    assert.notEqual(me?.username, victim.username, `signed in as the existing user through another issuer: ${result.callback?.status} ${result.callback?.location}`);
    const after = await contactById(victim.id);
    assert.equal(after.external_id, account.linkId, 'the existing user is still linked to its own issuer');
    assert.equal(after.first_name, account.given_name, 'and was not synced from the other issuer');
  });
});

describe('return_to', () => {
  for (const target of ['https://evil.example/steal', '//evil.example/steal', '/\\evil.example/steal', 'javascript:alert(1)']) {
    test(`an off-site return_to (${target}) is ignored`, async () => {
      const provider = providers.entra;
      await configure(provider, { mode: 'enabled', confirm: true });
      const account = await providerAccount(provider, 'returnto');
      await linkedContact(account);
      const browser = new Browser();
      const { form } = await emailPage(browser, { returnTo: target });
      assert.ok(!('return_to' in form.fields) || form.fields.return_to.startsWith('/') && !form.fields.return_to.startsWith('//'), `the form does not carry ${target}`);
      // Even when posted directly, it is not followed.
      const page = await browser.request(`${GATEHOUSE}/signin`, {
        method: 'POST',
        initiator: new URL(GATEHOUSE).origin,
        form: { csrf_token: form.fields.csrf_token, email: account.email, return_to: target },
      });
      assert.equal(page.status, 303, `to the provider: ${page.status} ${pageText(page.text).slice(0, 200)}`);
      const atProvider = await browser.navigate(new URL(page.location, GATEHOUSE), { initiator: new URL(GATEHOUSE).origin });
      const result = await providerLogin(browser, atProvider);
      assertSignedIn({ final: result, callback: callbackEntries(result).at(-1) }, '/account');
    });
  }

  test('a same-site return_to is followed after the provider', async () => {
    const provider = providers.okta;
    await configure(provider, { mode: 'enabled', confirm: true });
    const account = await providerAccount(provider, 'returnok');
    await linkedContact(account);
    const result = await signInThroughProvider(new Browser(), account.email, { returnTo: '/account?from=test' });
    assertSignedIn(result, '/account?from=test');
  });
});

describe('sign-out', () => {
  test("signing out ends the Gatehouse session and offers the provider's end-session URL", async () => {
    const provider = providers.okta;
    await configure(provider, { mode: 'enabled', confirm: true });
    const account = await providerAccount(provider, 'signout');
    await linkedContact(account);
    const browser = new Browser();
    assertSignedIn(await signInThroughProvider(browser, account.email), '/account');
    const accountPage = await browser.request(`${GATEHOUSE}/account`);
    const signOut = parseForms(accountPage.text).find((f) => f.action === '/signout');
    assert.ok(signOut, 'the account page has a sign-out form');
    const discovery = await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json();
    assert.ok(discovery.end_session_endpoint, 'the provider publishes an end-session endpoint');
    const out = await browser.navigate(`${GATEHOUSE}/signout`, { method: 'POST', form: signOut.fields, initiator: new URL(GATEHOUSE).origin });
    assert.equal(out.status, 200, `sign-out page: ${out.status}`);
    assert.ok(out.text.includes(discovery.end_session_endpoint), 'the page links to the provider sign-out');
    assert.equal(await whoAmI(browser), null, 'the Gatehouse session is over');
  });

  for (const profile of ['entra', 'okta']) {
    test(`${profile}: signing out at the provider ends the Gatehouse session (front-channel logout)`, async () => {
      const provider = providers[profile];
      await configure(provider, { mode: 'enabled', confirm: true });
      const account = await providerAccount(provider, `leaver-${profile}`);
      await linkedContact(account);
      const browser = new Browser();
      const other = new Browser();
      assertSignedIn(await signInThroughProvider(browser, account.email), '/account');
      assertSignedIn(await signInThroughProvider(other, account.email), '/account');

      // The person signs out at the provider; its page frames Gatehouse's logout URL.
      const question = await browser.navigate(`${provider.issuer}/session/end`);
      assert.equal(question.status, 200, pageText(question.text).slice(0, 300));
      const form = parseForms(question.text).find((f) => f.inputs.some((i) => i.name === 'xsrf'));
      const signingOut = await browser.submit(question.url, form, { logout: 'yes' });
      const frames = [...signingOut.text.matchAll(/<iframe[^>]* src="([^"]+)"/g)].map((m) => decodeEntities(m[1]));
      assert.equal(frames.length, 1, `one app signed in at the provider: ${pageText(signingOut.text).slice(0, 300)}`);
      const frameUrl = new URL(frames[0]);
      assert.equal(`${frameUrl.origin}${frameUrl.pathname}`, `${GATEHOUSE}/callback/logout`);
      assert.equal(frameUrl.searchParams.get('iss'), provider.issuer);
      const frame = await browser.navigate(frameUrl.href, { initiator: provider.origin });
      assert.equal(frame.status, 200);
      assert.match(frame.headers.get('content-security-policy'), new RegExp(`frame-ancestors ${provider.origin}(;|$)`));

      assert.equal(await whoAmI(browser), null, 'the session the provider session started is over');
      assert.ok(await whoAmI(other), "the person's other Gatehouse session (another provider session) lives on");
      const wrong = await browser.navigate(`${GATEHOUSE}/callback/logout?${new URLSearchParams({ iss: 'https://elsewhere.example', sid: frameUrl.searchParams.get('sid') })}`);
      assert.equal(wrong.status, 200, 'an unknown provider session is no error');
      assert.ok(await whoAmI(other), 'and ends nothing');
    });
  }
});

describe('OIDC log', () => {
  test('requests and decisions are logged, filterable, with secrets and tokens redacted', async () => {
    const provider = providers.okta;
    await configure(provider, { mode: 'enabled', confirm: true });
    const account = await providerAccount(provider, 'logged');
    await linkedContact(account);
    const since = new Date(Date.now() - 2000).toISOString().replace(/\.\d+Z$/, 'Z');
    const browser = new Browser();
    const result = await signInThroughProvider(browser, account.email);
    assertSignedIn(result, '/account');
    const code = new URL(result.callback.url).searchParams.get('code');
    const state = new URL(result.callback.url).searchParams.get('state');

    const all = (await logs({ from: since })).entries;
    assert.ok(all.length >= 3, `entries since ${since}: ${JSON.stringify(all.map((e) => e.message))}`);
    const dump = JSON.stringify(all);
    for (const [what, secret] of [['client secret', 'okta-secret'], ['code', code], ['state', state]]) {
      assert.ok(!dump.includes(secret), `the ${what} is not in the log`);
    }
    assert.ok(!/eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.test(dump), 'no JWT in the log');
    const filtered = (await logs({ contains: account.email, level: 'info' })).entries;
    assert.ok(filtered.length > 0, 'filter by text and level finds the sign-in');
    assert.ok(filtered.every((e) => ['info', 'warning', 'error'].includes(e.level)), 'level filter means this level and above');
    const beforeRun = new Date(Date.parse(since) - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const older = (await logs({ to: beforeRun, contains: account.email })).entries;
    assert.deepEqual(older, [], 'the occurred-between filter leaves out what happened later');
    const times = all.map((e) => Date.parse(e.occurred_at));
    assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
  });
});
