// The OpenID Connect settings page and its Logs tab in a real browser (issue 4): the
// administrator sees the seed's options, a save whose discovery fails shows the error at the
// field and keeps the input, the Logs tab shows that error and filters by level, text and date.
// Then, against a real Entra-like provider (tests/upstream/provider.mjs, node oidc-provider):
// settings saved in Test mode, the Enabled confirmation, MFA and OIDC excluding each other, a
// staff user and a system administrator signing in through the email-only screen and the
// provider's login page, and the request/response entries in the Logs tab.
//
// The test leaves OIDC Disabled (other test files sign in with passwords).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startProvider } from '../upstream/lib.mjs';
import {
  BASE,
  accessibilityViolations,
  adminApi,
  adminCall,
  launchBrowser,
  mainText,
  newPage,
  screenshot,
  signIn,
  submit,
  uniqueSuffix,
} from './browser.mjs';

const RUN = uniqueSuffix();
const ROLE_CLAIM = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
const UNREACHABLE = `http://127.0.0.1:9/${RUN}/v2.0`;
const DISCOVERY_FAILED = "OIDC settings not saved: the provider's discovery failed";
const PROVIDER_NAME = `Example Entra ID ${RUN}`;

let browser;
let session;
let provider;
let providerError;

before(async () => {
  browser = await launchBrowser();
  session = await newPage(browser);
  try {
    provider = await startProvider('entra', { callback: `${BASE}/callback` });
  } catch (e) {
    providerError = e;
  }
});

after(async () => {
  await adminCall('PUT', '/oidc-settings', { mode: 'disabled' }).catch(() => {});
  await provider?.stop();
  await browser?.close();
});

const utcDate = (days) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** The Logs tab's table rows as { time, level, message, details }. */
async function logRows(page) {
  return page.locator('tbody tr').evaluateAll((rows) =>
    rows.map((row) => {
      const cells = [...row.querySelectorAll('td')].map((td) => td.innerText.trim());
      return { time: cells[0], level: cells[1], message: cells[2], details: cells[3] };
    }),
  );
}

/** Fills the Logs tab's filter and presses Find. */
async function findLogs(page, { level = '', contains = '', from = '', to = '' } = {}) {
  await page.getByLabel('Level').selectOption(level);
  await page.getByLabel('Message contains').fill(contains);
  await page.getByLabel('Occurred from').fill(from);
  await page.getByLabel('Occurred to').fill(to);
  const result = await submit(page, page.getByRole('button', { name: 'Find' }));
  assert.equal(result.status, 200, await mainText(page));
  return logRows(page);
}

async function saveSettings(page) {
  return submit(page, page.getByRole('button', { name: 'Save', exact: true }));
}

test('the administrator configures OpenID Connect and reads its logs', async (t) => {
  const { page, problems } = session;

  await t.test('opens OpenID Connect from the admin header and sees the options', async () => {
    await signIn(page);
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'OpenID Connect' }).click();
    assert.equal(new URL(page.url()).pathname, '/admin/oidc');
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'OpenID Connect');
    const tabs = page.getByRole('navigation', { name: 'OpenID Connect tabs' });
    assert.equal(await tabs.getByRole('link', { name: 'Settings' }).getAttribute('aria-current'), 'page');
    await tabs.getByRole('link', { name: 'Logs' }).waitFor();
    for (const name of ['Disabled', 'Test mode', 'Enabled']) {
      await page.getByRole('radio', { name, exact: true }).waitFor();
    }
    const text = await mainText(page);
    for (const phrase of [
      'When selected, users can only log in with their Gatehouse credentials.',
      'When selected, staff users can sign in with their Gatehouse or external directory credentials.',
      'When selected, the external directory is the only sign in option for staff users. System administrators can still sign in with their Gatehouse credentials.',
      'The URI must begin with http and cannot begin with https.',
      'If OIDC is enabled or in test mode, then MFA is automatically disabled. Similarly, if MFA is enabled, then OIDC is disabled.',
      'This URL must match exactly with the Redirect URI defined in your external directory.',
      `${BASE}/callback`,
    ]) {
      assert.ok(text.includes(phrase), `the page says "${phrase}"`);
    }
    const type = page.getByLabel('Type', { exact: true });
    assert.deepEqual(await type.locator('option').allInnerTexts(), ['Choose…', 'Entra ID', 'Okta']);
    assert.equal(await page.getByLabel('Client Secret', { exact: true }).getAttribute('type'), 'password');
    for (const label of ['Name', 'Client ID', 'Authority URL', 'External Claim ID', 'Redirect login URL', 'Claim type', 'Claim value', 'Email body']) {
      await page.getByLabel(label, { exact: true }).waitFor();
    }
    // Only the chosen provider's own fields show.
    const visible = async (label) => page.getByLabel(label, { exact: true }).isVisible();
    assert.deepEqual([await visible('Well-Known URL'), await visible('Tenant')], [false, false], 'no provider chosen yet');
    await type.selectOption({ label: 'Okta' });
    assert.deepEqual([await visible('Well-Known URL'), await visible('Tenant')], [true, false], 'Okta');
    await type.selectOption({ label: 'Entra ID' });
    assert.deepEqual([await visible('Well-Known URL'), await visible('Tenant')], [false, true], 'Entra ID');
    await type.selectOption({ label: 'Choose…' });
    assert.deepEqual(await page.getByLabel('Require OIDC for').locator('option').allInnerTexts(), ['Staff Only', 'Staff & Public Users']);
    await page.getByRole('checkbox', { name: 'Set login hint' }).waitFor();
    assert.deepEqual(
      await page.getByLabel('Multi-factor authentication').locator('option').allInnerTexts(),
      ['Off', 'Optional', 'Required for staff users', 'Required for everyone'],
    );
  });

  await t.test('saves Disabled with a forgot-password email body', async () => {
    await page.getByRole('radio', { name: 'Disabled', exact: true }).check();
    await page.getByLabel('Multi-factor authentication').selectOption({ label: 'Off' });
    const body = `Staff sign in through the company directory (${RUN}).`;
    await page.getByLabel('Email body').fill(body);
    const result = await saveSettings(page);
    assert.equal(result.status, 303, await mainText(page));
    assert.equal(`${result.url.pathname}${result.url.search}`, '/admin/oidc?done=oidc-saved');
    assert.match(await page.locator('.flash').innerText(), /The OpenID Connect settings were saved/);
    assert.equal(await page.getByLabel('Email body').inputValue(), body);
  });

  await t.test('a claim type beginning with https is refused, the input kept', async () => {
    await page.getByRole('radio', { name: 'Test mode', exact: true }).check();
    await page.getByLabel('Type', { exact: true }).selectOption({ label: 'Entra ID' });
    await page.getByLabel('Name', { exact: true }).fill(`Unreachable ${RUN}`);
    await page.getByLabel('Client ID', { exact: true }).fill('entra-client');
    await page.getByLabel('Tenant', { exact: true }).fill('ae2d240f-abc1');
    await page.getByLabel('Authority URL', { exact: true }).fill(UNREACHABLE);
    await page.getByLabel('Redirect login URL').fill(`${BASE}/callback`);
    await page.getByLabel('Claim type').fill(ROLE_CLAIM.replace('http:', 'https:'));
    await page.getByLabel('Claim value').fill('iMIS_OIDC_Access');
    const result = await saveSettings(page);
    assert.equal(result.status, 422);
    assert.match(await page.locator('.flash.error').innerText(), /Nothing was saved\.[\s\S]*Claim type: a claim type URI must begin with http, not https/);
    assert.equal(await page.getByLabel('Claim type').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Authority URL', { exact: true }).inputValue(), UNREACHABLE);
  });

  await t.test('Test mode with an unreachable authority shows the discovery error at the field', async () => {
    await page.getByLabel('Claim type').fill(ROLE_CLAIM);
    const result = await saveSettings(page);
    assert.equal(result.status, 422);
    const summary = await page.locator('.flash.error').innerText();
    assert.match(summary, /Nothing was saved\.[\s\S]*Authority URL: Gatehouse could not connect to/);
    const fieldError = await page.locator('#authority_url-error').innerText();
    assert.ok(fieldError.length > 0 && summary.includes(fieldError), `${summary} / ${fieldError}`);
    assert.equal(await page.getByLabel('Authority URL', { exact: true }).getAttribute('aria-invalid'), 'true');
    // Everything typed is still there.
    assert.ok(await page.getByRole('radio', { name: 'Test mode', exact: true }).isChecked());
    assert.equal(await page.getByLabel('Type', { exact: true }).inputValue(), 'entra');
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), `Unreachable ${RUN}`);
    assert.equal(await page.getByLabel('Tenant', { exact: true }).inputValue(), 'ae2d240f-abc1');
    assert.equal(await page.getByLabel('Authority URL', { exact: true }).inputValue(), UNREACHABLE);
    assert.equal(await page.getByLabel('Claim type').inputValue(), ROLE_CLAIM);
    await screenshot(page, 'oidc-settings-error.png');
    // Nothing was saved.
    const stored = await adminApi('GET', '/oidc-settings');
    assert.equal(stored.mode, 'disabled');
    assert.notEqual(stored.authority_url, UNREACHABLE);
  });

  await t.test('the Logs tab shows the error; level, text and date filters change the table', async () => {
    await page.getByRole('navigation', { name: 'OpenID Connect tabs' }).getByRole('link', { name: 'Logs' }).click();
    assert.equal(new URL(page.url()).pathname, '/admin/oidc/logs');
    assert.deepEqual(await page.getByLabel('Level').locator('option').allInnerTexts(), ['All', 'debug', 'info', 'warning', 'error']);
    const all = await logRows(page);
    const mine = all.find((r) => r.message === DISCOVERY_FAILED && r.details.includes(RUN));
    assert.ok(mine, `the discovery error is listed: ${JSON.stringify(all.slice(0, 5))}`);
    assert.equal(mine.level, 'error');
    assert.ok(all.some((r) => r.level !== 'error'), 'other levels are listed too (the save of Disabled)');
    const times = all.map((r) => r.time);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
    await screenshot(page, 'oidc-logs.png');

    const errors = await findLogs(page, { level: 'error' });
    assert.equal(new URL(page.url()).searchParams.get('level'), 'error');
    assert.ok(errors.length > 0 && errors.length < all.length, `${errors.length} of ${all.length}`);
    assert.ok(errors.every((r) => r.level === 'error'));
    assert.equal(await page.getByLabel('Level').inputValue(), 'error', 'the filter is kept');

    const byText = await findLogs(page, { contains: RUN });
    assert.deepEqual(byText.map((r) => r.message), [DISCOVERY_FAILED]);
    assert.equal(await page.getByLabel('Message contains').inputValue(), RUN);

    assert.equal((await findLogs(page, { contains: RUN, from: utcDate(-1), to: utcDate(1) })).length, 1);
    assert.equal((await findLogs(page, { contains: RUN, from: utcDate(1) })).length, 0);
    assert.match(await mainText(page), /No log entries match\./);
    // A level lists its entries and the more severe ones.
    assert.equal((await findLogs(page, { level: 'warning', contains: RUN })).length, 1, 'an error is above warning');
  });

  await t.test('older entries page back; a bad level is refused', async () => {
    await page.goto('/admin/oidc/logs?limit=1');
    const first = await logRows(page);
    assert.equal(first.length, 1);
    await page.getByRole('link', { name: 'Search older entries' }).click();
    assert.ok(new URL(page.url()).searchParams.get('before'));
    const second = await logRows(page);
    assert.equal(second.length, 1);
    assert.ok(second[0].time <= first[0].time);
    assert.notDeepEqual(second[0], first[0]);

    const refused = await page.goto('/admin/oidc/logs?level=loud');
    assert.equal(refused.status(), 422);
    assert.match(await page.locator('.flash.error').innerText(), /Level: choose debug, info, warning or error/);
  });

  await t.test('no page caused a browser error (CSP violations included)', () => {
    assert.deepEqual(problems, []);
  });
});

test('Test mode against an Entra-like provider: staff sign in through it', async (t) => {
  if (!provider) {
    t.skip(`the provider harness did not start: ${providerError?.message}`);
    return;
  }
  const { page, problems } = session;
  const fillProvider = async () => {
    await page.goto('/admin/oidc');
    await page.getByRole('radio', { name: 'Test mode', exact: true }).check();
    await page.getByLabel('Type', { exact: true }).selectOption('entra');
    await page.getByLabel('Name', { exact: true }).fill(PROVIDER_NAME);
    await page.getByLabel('Client ID', { exact: true }).fill('entra-client');
    await page.getByLabel('Client Secret', { exact: true }).fill('entra-secret');
    await page.getByLabel('Tenant', { exact: true }).fill(provider.tenant);
    await page.getByLabel('Authority URL', { exact: true }).fill(provider.issuer);
    await page.getByLabel('External Claim ID').fill('');
    await page.getByLabel('Redirect login URL').fill(`${BASE}/callback`);
    await page.getByRole('checkbox', { name: 'Set login hint' }).check();
    await page.getByLabel('Require OIDC for').selectOption({ label: 'Staff Only' });
    await page.getByLabel('Claim type').fill(ROLE_CLAIM);
    await page.getByLabel('Claim value').fill('iMIS_OIDC_Access');
    await page.getByLabel('Multi-factor authentication').selectOption({ label: 'Off' });
  };

  await t.test('saves the provider in Test mode; the secret is not shown back', async () => {
    await fillProvider();
    const result = await saveSettings(page);
    assert.equal(result.status, 303, await mainText(page));
    assert.match(await page.locator('.flash').innerText(), /The OpenID Connect settings were saved/);
    assert.ok(await page.getByRole('radio', { name: 'Test mode', exact: true }).isChecked());
    assert.equal(await page.getByLabel('Client Secret', { exact: true }).inputValue(), '');
    assert.match(await mainText(page), /A secret is stored \(…cret\)\. Leave blank to keep it\./);
    assert.ok(!(await page.content()).includes('entra-secret'), 'the secret is nowhere in the page');
    const stored = await adminApi('GET', '/oidc-settings');
    assert.equal(stored.mode, 'test');
    assert.equal(stored.authority_url, provider.issuer);
  });

  await t.test('Enabled asks for the seed\'s confirmation first; Cancel changes nothing, Confirm saves', async () => {
    await page.getByRole('radio', { name: 'Enabled', exact: true }).check();
    let result = await saveSettings(page);
    assert.equal(result.status, 200);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Enable OpenID Connect');
    assert.match(
      await page.locator('.warning').innerText(),
      /Signing in with a standard username and password will no longer work for the specified user types, except for system administrators\./,
    );
    await page.getByRole('link', { name: 'Cancel' }).click();
    assert.ok(await page.getByRole('radio', { name: 'Test mode', exact: true }).isChecked(), 'still Test mode');

    await page.getByRole('radio', { name: 'Enabled', exact: true }).check();
    await saveSettings(page);
    await screenshot(page, 'oidc-confirm.png');
    result = await submit(page, page.getByRole('button', { name: 'Confirm' }));
    assert.equal(result.status, 303, await mainText(page));
    assert.ok(await page.getByRole('radio', { name: 'Enabled', exact: true }).isChecked());
    assert.equal((await adminApi('GET', '/oidc-settings')).mode, 'enabled');

    // Back to Test mode for the rest: no confirmation needed for that.
    await page.getByRole('radio', { name: 'Test mode', exact: true }).check();
    result = await saveSettings(page);
    assert.equal(result.status, 303, await mainText(page));
    assert.equal((await adminApi('GET', '/oidc-settings')).mode, 'test');
  });

  await t.test('enabling MFA disables OIDC; enabling OIDC again disables MFA, each once confirmed', async () => {
    const mfa = page.getByLabel('Multi-factor authentication');
    await mfa.selectOption({ label: 'Optional' });
    let result = await saveSettings(page);
    assert.equal(result.status, 200, 'a confirmation first');
    assert.match(await mainText(page), /If MFA is enabled, then OIDC is disabled/);
    assert.deepEqual(await accessibilityViolations(page), [], 'the confirmation is accessible');
    await screenshot(page, 'oidc-confirm-mfa.png');
    assert.equal((await adminApi('GET', '/oidc-settings')).mode, 'test', 'nothing saved before confirming');
    result = await submit(page, page.getByRole('button', { name: 'Confirm' }));
    assert.equal(result.status, 303, await mainText(page));
    assert.match(await page.locator('.flash').innerText(), /Multi-factor authentication was enabled, so OIDC was disabled/);
    assert.ok(await page.getByRole('radio', { name: 'Disabled', exact: true }).isChecked());
    assert.equal(await mfa.inputValue(), 'optional');

    await page.getByRole('radio', { name: 'Test mode', exact: true }).check();
    result = await saveSettings(page);
    assert.equal(result.status, 200, 'a confirmation first');
    assert.match(await mainText(page), /If OIDC is enabled or in test mode, then MFA is automatically disabled/);
    result = await submit(page, page.getByRole('button', { name: 'Confirm' }));
    assert.equal(result.status, 303, await mainText(page));
    assert.match(await page.locator('.flash').innerText(), /so MFA was disabled/);
    assert.ok(await page.getByRole('radio', { name: 'Test mode', exact: true }).isChecked());
    assert.equal(await mfa.inputValue(), 'off');
    assert.equal((await adminApi('GET', '/oidc-settings')).mfa, 'off');
  });

  /** Email-only screen → (a choice for administrators) → the provider's login page → back in Gatehouse. */
  async function throughProvider(email, { expectChoice }) {
    const other = await newPage(browser);
    const { page: p } = other;
    await p.goto('/signin');
    assert.equal(await p.locator('input[type=password]').count(), 0, 'the first step shows only an email field');
    await p.getByLabel('Email').fill(email);
    let result = await submit(p, p.getByRole('button', { name: 'Next' }));
    if (expectChoice) {
      assert.equal(result.url.origin, new URL(BASE).origin, 'a choice page at Gatehouse');
      await p.getByLabel('Password').waitFor();
      result = await submit(p, p.getByRole('button', { name: `Sign in with ${PROVIDER_NAME}` }));
    }
    assert.equal(result.url.origin, provider.origin, `the provider's login page, not ${result.url}`);
    assert.equal(await p.getByLabel('Email').inputValue(), email, 'the login hint pre-fills the email');
    await p.getByLabel('Password').fill('password');
    result = await submit(p, p.getByRole('button', { name: 'Sign in' }));
    return { ...other, result };
  }

  await t.test('a new staff user signs in with the email-only screen and the provider, and lands on /account', async () => {
    const email = `staff-${RUN}@example.org`;
    await provider.setAccount(email, { staff: true, given_name: 'Bea', family_name: `Browser${RUN}` });
    const { context, page: p, result } = await throughProvider(email, { expectChoice: false });
    try {
      assert.equal(`${result.url.origin}${result.url.pathname}`, `${BASE}/account`, await mainText(p));
      assert.match(await mainText(p), new RegExp(`Bea Browser${RUN}`));
      await screenshot(p, 'oidc-staff-account.png');
    } finally {
      await context.close();
    }
  });

  await t.test('a system administrator chooses the provider and lands in /admin', async () => {
    const email = `sysadmin-${RUN}@example.org`;
    const account = await provider.setAccount(email, { staff: true, given_name: 'Sid', family_name: `Admin${RUN}` });
    await adminApi('POST', '/contacts', {
      username: `sysadmin-${RUN}`,
      email,
      first_name: 'Sid',
      last_name: `Admin${RUN}`,
      is_staff: true,
      is_sysadmin: true,
      password: `sysadmin-password-${RUN}`,
      external_id: `${provider.issuer}|${account.sub}`,
    });
    const { context, page: p, result } = await throughProvider(email, { expectChoice: true });
    try {
      assert.equal(result.url.origin, new URL(BASE).origin);
      assert.match(result.url.pathname, /^\/admin(\/|$)/, `landed on ${result.url}`);
      await p.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'OpenID Connect' }).waitFor();
    } finally {
      await context.close();
    }
  });

  await t.test('an existing staff member links their account once with its password', async () => {
    const email = `existing-${RUN}@example.org`;
    await provider.setAccount(email, { staff: true, given_name: 'Erin', family_name: `Existing${RUN}` });
    const password = `existing-password-${RUN}`;
    const existing = await adminApi('POST', '/contacts', {
      username: `esmith-${RUN}`,
      email,
      first_name: 'Erin',
      last_name: `Existing${RUN}`,
      is_staff: true,
      is_sysadmin: false,
      password,
    });
    // Test mode: staff choose between their password and the provider; they pick the provider.
    const { context, page: p, result } = await throughProvider(email, { expectChoice: true });
    try {
      assert.equal(`${result.url.origin}${result.url.pathname}`, `${BASE}/callback`, await mainText(p));
      assert.equal(await p.getByRole('heading', { level: 1 }).innerText(), 'Link your existing account');
      assert.match(await mainText(p), new RegExp(`An account with the email ${email} already exists`));
      assert.deepEqual(await accessibilityViolations(p), []);
      await screenshot(p, 'oidc-link-account.png');

      await p.getByLabel(/password/i).fill('not-the-password');
      let linked = await submit(p, p.getByRole('button', { name: 'Link and sign in' }));
      assert.equal(linked.status, 401);
      assert.match(await p.getByRole('alert').innerText(), /The password is incorrect/);
      await screenshot(p, 'oidc-link-account-wrong-password.png');

      await p.getByLabel(/password/i).fill(password);
      linked = await submit(p, p.getByRole('button', { name: 'Link and sign in' }));
      assert.equal(linked.status, 303, await mainText(p));
      assert.equal(`${linked.url.origin}${linked.url.pathname}`, `${BASE}/account`);
      assert.match(await mainText(p), new RegExp(`\\(esmith-${RUN}\\)`));
      const contact = await adminApi('GET', `/contacts/${existing.id}`);
      assert.equal(contact.external_id, `${provider.issuer}|${(await provider.account(email)).sub}`);
      assert.equal((await adminApi('GET', `/contacts?search=${encodeURIComponent(email)}`)).contacts.length, 1);
    } finally {
      await context.close();
    }
  });

  await t.test("signing out at the provider ends the Gatehouse session; Gatehouse's sign-out offers the provider's", async () => {
    const email = `leaver-${RUN}@example.org`;
    await provider.setAccount(email, { staff: true, given_name: 'Lee', family_name: `Leaver${RUN}` });
    const first = await throughProvider(email, { expectChoice: false });
    try {
      const { page: p } = first;
      assert.equal(`${first.result.url.origin}${first.result.url.pathname}`, `${BASE}/account`, await mainText(p));
      // The person signs out at the provider (as at myaccount.microsoft.com): its sign-out page
      // loads Gatehouse's front-channel logout URL in a hidden frame.
      await p.goto(`${provider.issuer}/session/end`);
      await p.getByRole('button', { name: 'Yes, sign me out' }).click();
      await p.waitForURL((url) => url.href.startsWith(`${provider.issuer}/session/end/success`));
      const frames = await provider.frontChannelLogouts();
      assert.ok(frames.some((f) => f.startsWith(`${BASE}/callback/logout?`)), JSON.stringify(frames));
      await p.goto('/account');
      assert.equal(new URL(p.url()).pathname, '/signin', '/account asks to sign in again');
      assert.deepEqual(first.problems, [], 'the provider may frame the front-channel page (no CSP refusal)');
    } finally {
      await first.context.close();
    }

    // Now a known staff contact, who in Test mode chooses the provider beside the password.
    const second = await throughProvider(email, { expectChoice: true });
    try {
      const { page: p } = second;
      assert.equal(`${second.result.url.origin}${second.result.url.pathname}`, `${BASE}/account`, await mainText(p));
      let out = await submit(p, p.getByRole('button', { name: 'Sign out' }));
      assert.equal(out.status, 200, await mainText(p));
      assert.equal(await p.getByRole('heading', { level: 1 }).innerText(), 'Signed out');
      const offer = p.getByRole('link', { name: `Also sign out of ${PROVIDER_NAME}` });
      const href = new URL(await offer.getAttribute('href'));
      assert.equal(`${href.origin}${href.pathname}`, `${provider.issuer}/session/end`);
      assert.ok(href.searchParams.get('id_token_hint'), 'the provider gets the ID token as the hint');
      assert.equal(href.searchParams.get('post_logout_redirect_uri'), `${BASE}/signout/done`);
      assert.deepEqual(await accessibilityViolations(p), []);
      await screenshot(p, 'signed-out-offer-provider.png');
      await offer.click();
      await p.getByRole('button', { name: 'Yes, sign me out' }).click();
      await p.waitForURL(`${BASE}/signout/done`);
      assert.equal(await p.getByRole('heading', { level: 1 }).innerText(), 'Signed out');
      assert.match(await mainText(p), /You are signed out of/);
      assert.deepEqual(await accessibilityViolations(p), []);
      await screenshot(p, 'signed-out.png');
      await p.goto('/account');
      assert.equal(new URL(p.url()).pathname, '/signin');
      assert.deepEqual(second.problems, []);
    } finally {
      await second.context.close();
    }
  });

  await t.test('the Logs tab shows the requests and responses', async () => {
    await page.goto('/admin/oidc/logs');
    const email = `staff-${RUN}@example.org`;
    const mine = await findLogs(page, { contains: email });
    const messages = mine.map((r) => r.message);
    assert.ok(messages.includes('Redirecting to the OpenID provider'), messages.join(' | '));
    assert.ok(messages.includes('Signed in through the OpenID provider'), messages.join(' | '));
    assert.ok(!mine.some((r) => r.details.includes('entra-secret')), 'secrets are redacted');

    const received = await findLogs(page, { contains: 'Response received from the OpenID provider' });
    assert.ok(received.length >= 2 && received.every((r) => r.level === 'debug'), JSON.stringify(received.slice(0, 2)));
    assert.ok(received.every((r) => !/"code": "(?!<redacted>)/.test(r.details)), 'codes are redacted');
    assert.equal((await findLogs(page, { level: 'info', contains: 'Response received from the OpenID provider' })).length, 0);
    const exchanges = await findLogs(page, { level: 'info', contains: 'Exchanging the code' });
    assert.ok(exchanges.length >= 2, 'the code exchanges are logged');
    await screenshot(page, 'oidc-logs-provider.png');
  });

  await t.test('turns OIDC off again through the page', async () => {
    await page.goto('/admin/oidc');
    await page.getByRole('radio', { name: 'Disabled', exact: true }).check();
    const result = await saveSettings(page);
    assert.equal(result.status, 303, await mainText(page));
    assert.equal((await adminApi('GET', '/oidc-settings')).mode, 'disabled');
  });

  await t.test('no admin page caused a browser error', () => {
    assert.deepEqual(problems, []);
  });
});
