// Sign-in through the provider for an organisation that already has staff in Gatehouse:
// the email step takes usernames, existing contacts are linked (never duplicated, never
// squatted), staff status follows the claim, two tabs both finish, and errors carry a
// reference to the OIDC log.
//
//   GATEHOUSE_URL=http://127.0.0.1:8080 GATEHOUSE_ADMIN_PASSWORD=... node --test upstream/linking.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  Browser,
  adminApi,
  adminCall,
  configure,
  createContact,
  disableOidc,
  findContacts,
  logs,
  pageText,
  startProvider,
} from './lib.mjs';
import {
  RUN,
  assertRefused,
  assertSignedIn,
  callbackEntries,
  contactById,
  emailPage,
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
const LINK_PAGE = 'Link your existing account';
const ASK_ADMIN = 'Ask an administrator to link it';

let entra;
let okta;
let otherTenant;

before(async () => {
  if (!ADMIN_PASSWORD) throw new Error('GATEHOUSE_ADMIN_PASSWORD is not set');
  [entra, okta, otherTenant] = (
    await Promise.all([
      startProvider('entra'),
      startProvider('okta'),
      startProvider('entra', { tenant: 'c0ffee00-0000-4000-8000-linking0other' }),
    ])
  ).map(trackProvider);
});

after(async () => {
  await disableOidc().catch(() => {});
  await Promise.all([entra?.stop(), okta?.stop(), otherTenant?.stop()]);
});

/** A local contact with a password and no provider identity (someone who was here before OIDC). */
async function existingContact(email, { label = 'existing', staff = true, sysadmin = false, password = `pw-${RUN}-existing` } = {}) {
  const n = nextNumber();
  return createContact({
    username: `${label}-${n}-${RUN}`,
    email,
    first_name: 'Erin',
    last_name: 'Smith',
    is_staff: staff || sysadmin,
    is_sysadmin: sysadmin,
    password,
  });
}

const hasSession = (entry) => entry.headers.getSetCookie().some((c) => /^gatehouse_session=[^;]+/.test(c));

/** The callback showed the "Link your existing account" step, and signed nobody in. */
function assertLinkStep(result) {
  const { callback } = result;
  assert.ok(callback, `came back to /callback: ${result.final.url}`);
  assert.equal(callback.status, 200, `/callback: ${callback.status} ${pageText(callback.text).slice(0, 400)}`);
  assert.ok(pageText(callback.text).includes(LINK_PAGE), pageText(callback.text).slice(0, 400));
  assert.ok(!hasSession(callback), 'no session before the password is entered');
}

/** The reference on a refusal page, and the one OIDC log entry it names. */
async function referencedEntry(page) {
  const text = pageText(page.text);
  const match = text.match(/Reference: ([A-Z0-9]{10})/);
  assert.ok(match, `the page gives a reference: ${text.slice(0, 500)}`);
  const { entries } = await logs({ contains: match[1] });
  assert.equal(entries.length, 1, `one log entry has reference ${match[1]}: ${JSON.stringify(entries)}`);
  return entries[0];
}

describe('the email step', () => {
  test('the first administrator (no email) signs in with their username while OIDC is Enabled', async () => {
    await configure(entra, { mode: 'enabled', confirm: true });
    const browser = new Browser();
    const { page, form } = await emailPage(browser);
    const input = form.inputs.find((i) => i.name === 'email');
    assert.equal(input.type, 'text', 'a username is not an email: the browser must accept it');
    assert.ok(pageText(page.text).includes('Email or username'));
    const next = await browser.submit(page.url, form, { email: ADMIN_USERNAME });
    assert.ok(!isProvider(next.url), `a system administrator is not sent to the provider: ${next.url}`);
    assert.ok(providerButtonForm(next.text), 'the seed\'s Figure 3: the provider button beside the password');
    const done = await submitPassword(browser, next, ADMIN_PASSWORD);
    assert.equal(done.chain[0].status, 303, pageText(done.chain[0].text).slice(0, 300));
    assert.equal(done.chain[0].location, '/admin');
  });

  test('an email two contacts share asks for the username instead of guessing', async () => {
    await configure(entra, { mode: 'test' });
    const shared = `shared-${nextNumber()}-${RUN}@example.org`;
    const first = await existingContact(shared, { label: 'twin', staff: false });
    await existingContact(shared, { label: 'twin', staff: false });
    const browser = new Browser();
    const asked = await submitEmail(browser, shared);
    assert.equal(asked.status, 422);
    assert.ok(pageText(asked.text).includes('Enter your username instead'), pageText(asked.text).slice(0, 300));
    const { page, form } = await emailPage(browser);
    const next = await browser.submit(page.url, form, { email: first.username });
    const done = await submitPassword(browser, next, first.password);
    assert.equal(done.chain[0].status, 303, pageText(done.chain[0].text).slice(0, 300));
    assert.equal((await whoAmI(browser))?.username, first.username);
  });
});

describe('existing contacts', () => {
  for (const [profile, provider] of [['entra', () => entra], ['okta', () => okta]]) {
    test(`${profile}: an existing staff member links once with their password and is never duplicated`, async () => {
      await configure(provider(), { mode: 'enabled', confirm: true });
      const account = await providerAccount(provider(), 'esmith');
      const existing = await existingContact(account.email, { label: 'esmith' });
      const browser = new Browser();
      const result = await signInThroughProvider(browser, account.email);
      assertLinkStep(result);
      assert.deepEqual((await findContacts(account.email)).map((c) => c.id), [existing.id], 'no second contact');

      const wrong = await submitPassword(browser, result.final, 'not-the-password');
      assert.equal(wrong.status, 401);
      assert.ok(pageText(wrong.text).includes(LINK_PAGE), 'the step is offered again');
      assert.ok(!hasSession(wrong));
      const done = await submitPassword(browser, wrong, existing.password);
      assert.equal(done.chain[0].status, 303, pageText(done.chain[0].text).slice(0, 300));
      assert.equal(done.chain[0].location, '/account');
      assert.equal((await whoAmI(browser))?.username, existing.username);
      assert.equal((await contactById(existing.id)).external_id, account.linkId);

      // From now on the provider signs in straight to the contact.
      const again = new Browser();
      assertSignedIn(await signInThroughProvider(again, account.email), '/account');
      assert.equal((await whoAmI(again))?.username, existing.username);
      assert.equal((await findContacts(account.email)).length, 1);
      const { entries } = await logs({ contains: existing.username });
      assert.ok(entries.some((e) => e.message.includes('Linked the provider identity')), JSON.stringify(entries.map((e) => e.message)));
    });
  }

  test("another directory account carrying a member's email gets no contact; the member's sign-in is unchanged", async () => {
    await configure(entra, { mode: 'test' });
    const victimEmail = `victim-${nextNumber()}-${RUN}@example.org`;
    const victim = await existingContact(victimEmail, { label: 'victim' });
    const squatter = await providerAccount(entra, 'squatter');
    await entra.setAccount(squatter.email, { claims: { email: victimEmail } });

    const browser = new Browser();
    const result = await signInThroughProvider(browser, victimEmail, { login: squatter.email });
    assertLinkStep(result);
    assert.equal(await whoAmI(browser), null);
    const guessed = await submitPassword(browser, result.final, 'guess-1');
    assert.equal(guessed.status, 401);
    assert.deepEqual((await findContacts(victimEmail)).map((c) => c.id), [victim.id], 'nobody else has the email');
    assert.equal((await contactById(victim.id)).external_id, null, 'the victim is not linked to the squatter');
    assert.deepEqual(await findContacts(squatter.email), [], 'no contact for the squatter either');

    // The victim types their own email and signs in with their password, as before.
    const own = new Browser();
    const choice = await submitEmail(own, victimEmail);
    const done = await submitPassword(own, choice, victim.password);
    assert.equal(done.chain[0].status, 303, pageText(done.chain[0].text).slice(0, 300));
    assert.equal((await whoAmI(own))?.username, victim.username);
  });

  test('a squatter of a just-in-time contact is refused with a reference, and nothing is created', async () => {
    await configure(entra, { mode: 'enabled', confirm: true });
    const owner = await providerAccount(entra, 'jitowner');
    assertSignedIn(await signInThroughProvider(new Browser(), owner.email), '/account');
    const [jit] = await findContacts(owner.email);
    assert.equal(jit.external_id, owner.linkId);

    await configure(otherTenant, { mode: 'enabled', confirm: true });
    await otherTenant.setAccount(owner.email, { staff: true, given_name: 'Eve', family_name: 'Other' });
    const browser = new Browser();
    const result = await signInThroughProvider(browser, owner.email);
    assertRefused(result, ASK_ADMIN);
    const entry = await referencedEntry(result.callback);
    assert.match(entry.details.reason, /linked to another provider identity/);
    assert.deepEqual((await findContacts(owner.email)).map((c) => c.id), [jit.id]);
    assert.equal((await contactById(jit.id)).first_name, owner.given_name, 'not synced from the other directory');
  });

  test('a contact without a password is linked by an administrator, and unlinking is logged', async () => {
    await configure(entra, { mode: 'enabled', confirm: true });
    const account = await providerAccount(entra, 'nopassword');
    const contact = await adminApi('POST', '/contacts', {
      username: `nopw-${nextNumber()}-${RUN}`,
      email: account.email,
      first_name: 'No',
      last_name: 'Password',
      is_staff: true,
      is_sysadmin: false,
    });
    const refused = await signInThroughProvider(new Browser(), account.email);
    assertRefused(refused, ASK_ADMIN);
    const entry = await referencedEntry(refused.callback);
    assert.equal(entry.details.external_id, account.linkId, 'the log shows the identity to link');

    const linked = await adminApi('PUT', `/contacts/${contact.id}/external-id`, { external_id: entry.details.external_id });
    assert.equal(linked.external_id, account.linkId);
    const browser = new Browser();
    assertSignedIn(await signInThroughProvider(browser, account.email), '/account');
    assert.equal((await whoAmI(browser))?.username, contact.username);

    const other = await linkedContact(await providerAccount(entra, 'holder'), { label: 'holder' });
    const taken = await adminCall('PUT', `/contacts/${contact.id}/external-id`, { external_id: other.external_id });
    assert.equal(taken.status, 409, `already linked: ${JSON.stringify(taken.body)}`);

    const unlinked = await adminApi('DELETE', `/contacts/${contact.id}/external-id`);
    assert.equal(unlinked.external_id, null);
    const { entries } = await logs({ contains: contact.username });
    assert.ok(entries.some((e) => e.message.includes('unlinked') && e.details.previous_external_id === account.linkId), JSON.stringify(entries));
    assertRefused(await signInThroughProvider(new Browser(), account.email), ASK_ADMIN);
  });

  test('Link existing contacts by verified email: links only when the token proves the email, never a system administrator', async () => {
    await configure(okta, { mode: 'enabled', confirm: true, link_verified_email: true });
    const account = await providerAccount(okta, 'verified');
    const existing = await existingContact(account.email, { label: 'verified' });
    const browser = new Browser();
    assertSignedIn(await signInThroughProvider(browser, account.email), '/account');
    assert.equal((await whoAmI(browser))?.username, existing.username);
    assert.equal((await contactById(existing.id)).external_id, account.linkId);

    const unverified = await providerAccount(okta, 'unverified');
    await okta.setAccount(unverified.email, { claims: { email_verified: false } });
    await existingContact(unverified.email, { label: 'unverified' });
    assertLinkStep(await signInThroughProvider(new Browser(), unverified.email));

    const adminAccount = await providerAccount(okta, 'verifiedadmin');
    const admin = await existingContact(adminAccount.email, { label: 'verifiedadmin', sysadmin: true });
    assertRefused(await signInThroughProvider(new Browser(), adminAccount.email), ASK_ADMIN);
    assert.equal((await contactById(admin.id)).external_id, null, 'a system administrator is never linked by email');
  });
});

describe('staff status', () => {
  test('the staff claim decides at every sign-in: added, taken away, and refused under Staff Only', async () => {
    await configure(entra, { mode: 'enabled', confirm: true, require_for: 'staff_and_public' });
    const account = await providerAccount(entra, 'demoted');
    assertSignedIn(await signInThroughProvider(new Browser(), account.email), '/account');
    const [created] = await findContacts(account.email);
    assert.equal(created.is_staff, true);

    await entra.setAccount(account.email, { staff: false });
    assertSignedIn(await signInThroughProvider(new Browser(), account.email), '/account');
    assert.equal((await contactById(created.id)).is_staff, false, 'the role was removed in the directory');

    await entra.setAccount(account.email, { staff: true });
    assertSignedIn(await signInThroughProvider(new Browser(), account.email), '/account');
    assert.equal((await contactById(created.id)).is_staff, true);

    await configure(entra, { mode: 'enabled', confirm: true, require_for: 'staff' });
    await entra.setAccount(account.email, { staff: false });
    assertRefused(await signInThroughProvider(new Browser(), account.email), NOT_STAFF);
  });
});

describe('two tabs', () => {
  test('two pending sign-ins in one browser both finish', async () => {
    await configure(entra, { mode: 'enabled', confirm: true });
    const account = await providerAccount(entra, 'twotabs');
    const contact = await linkedContact(account, { label: 'twotabs' });
    const browser = new Browser();
    const firstTab = await submitEmail(browser, account.email);
    const secondTab = await submitEmail(browser, account.email);
    assert.ok(isProvider(firstTab.url) && isProvider(secondTab.url));
    for (const tab of [firstTab, secondTab]) {
      const done = await providerLogin(browser, tab, { login: account.email });
      assertSignedIn({ final: done, callback: callbackEntries(done).at(-1) }, '/account');
    }
    assert.equal((await whoAmI(browser))?.username, contact.username);
  });
});

describe('error pages', () => {
  for (const [mode, detail] of [
    ['no-exp', /exp/],
    ['no-sub', /sub/],
    ['wrong-audience', /some-other-client/],
  ]) {
    test(`code flow, ${mode}: a short message with a reference; the OIDC log has the detail`, async () => {
      await configure(entra, { mode: 'enabled', confirm: true });
      const account = await providerAccount(entra, `errors-${mode}`);
      await linkedContact(account);
      await entra.tamper(mode);
      try {
        const result = await signInThroughProvider(new Browser(), account.email);
        assertRefused(result);
        const text = pageText(result.callback.text);
        assert.doesNotMatch(text, /could not be reached/, 'the provider was reached: the token was wrong');
        for (const internal of ['entra-client', entra.issuer, 'some-other-client']) {
          assert.ok(!text.includes(internal), `the page does not show ${internal}: ${text.slice(0, 400)}`);
        }
        const entry = await referencedEntry(result.callback);
        assert.match(JSON.stringify(entry.details), detail);
      } finally {
        await entra.tamper(null);
      }
    });
  }
});
