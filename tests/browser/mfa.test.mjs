// Two-step verification in a real browser: with MFA optional, a member sets up an authenticator
// app on their account page (the QR code is shown; the test types nothing from it but reads the
// key printed beside it and computes the codes as an app would, tests/support/totp.mjs), saves
// the recovery codes, then signs in with password and code; a reused code is refused; a
// recovery code signs in once. Every page passes axe-core's WCAG 2 A/AA checks; screenshots go
// to tests/.work. The MFA setting is put back to off afterwards (the files run one by one).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { stepAt, totp } from '../support/totp.mjs';
import {
  accessibilityViolations,
  adminApi,
  fillSignIn,
  launchBrowser,
  mainText,
  newPage,
  overflow,
  screenshot,
  submit,
  uniqueSuffix,
} from './browser.mjs';

const RUN = uniqueSuffix();
const USERNAME = `mfa-${RUN}`;
const PASSWORD = `mfa-password-${RUN}`;

let browser;

before(async () => {
  if (!process.env.GATEHOUSE_ADMIN_PASSWORD) throw new Error('GATEHOUSE_ADMIN_PASSWORD is not set');
  const saved = await adminApi('PUT', '/oidc-settings', { mode: 'disabled', mfa: 'optional' });
  assert.equal(saved.mfa, 'optional');
  await adminApi('POST', '/contacts', {
    username: USERNAME,
    email: `${USERNAME}@example.org`,
    first_name: 'Mia',
    last_name: 'Factor',
    password: PASSWORD,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await adminApi('PUT', '/oidc-settings', { mode: 'disabled', mfa: 'off' });
});

async function accessible(page, what) {
  assert.deepEqual(await accessibilityViolations(page), [], `${what} passes axe-core`);
}

/** The password step in a fresh browser context; returns the page on the step that follows. */
async function passwordStep() {
  const opened = await newPage(browser);
  await opened.page.goto('/signin');
  const result = await submit(opened.page, await fillSignIn(opened.page, USERNAME, PASSWORD));
  return { ...opened, result };
}

async function enterCode(page, code) {
  await page.getByLabel('Code').fill(code);
  return submit(page, page.getByRole('button', { name: 'Verify' }));
}

test('a member sets up an authenticator app, then signs in with a code, once each, or a recovery code', async (t) => {
  let key;
  let enrolledStep;
  let recoveryCodes;

  await t.test('set-up on the account page: QR code and key, confirmed with a first code', async () => {
    const { context, page, problems, result } = await passwordStep();
    try {
      assert.equal(result.status, 303, 'optional and not set up yet: the password is enough');
      assert.equal(result.url.pathname, '/account');
      await submit(page, page.getByRole('link', { name: 'Set up two-step verification' }));
      const qr = page.getByRole('img', { name: /QR code/ });
      assert.ok(await qr.isVisible(), 'the QR code is shown');
      assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml;base64,/, 'rendered on the server as SVG');
      key = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
      assert.match(key, /^[A-Z2-7]{32}$/);
      await accessible(page, 'the set-up page');
      await screenshot(page, 'mfa-setup.png');

      await page.getByLabel('Code from the app').fill(totp(key, stepAt() - 5));
      let done = await submit(page, page.getByRole('button', { name: 'Turn on two-step verification' }));
      assert.equal(done.pageStatus, 422, 'an old code does not confirm the set-up');
      assert.match(await mainText(page), /The code is incorrect/);
      assert.equal((await page.locator('#totp-secret').innerText()).replace(/\s/g, ''), key, 'the same key again');

      enrolledStep = stepAt();
      await page.getByLabel('Code from the app').fill(totp(key, enrolledStep));
      done = await submit(page, page.getByRole('button', { name: 'Turn on two-step verification' }));
      assert.equal(done.pageStatus, 200, await mainText(page));
      recoveryCodes = await page.locator('#recovery-codes code').allInnerTexts();
      assert.equal(recoveryCodes.length, 10);
      await accessible(page, 'the recovery codes page');
      await screenshot(page, 'mfa-recovery-codes.png');
      await submit(page, page.getByRole('link', { name: 'I have saved them, continue' }));
      assert.match(await mainText(page), /10 recovery codes left/);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  await t.test('sign-in asks for the code after the password; the set-up code is not taken again', async () => {
    const { context, page, problems, result } = await passwordStep();
    try {
      assert.equal(result.pageStatus, 200);
      assert.equal(await page.getByRole('heading', { name: 'Two-step verification' }).count(), 1);
      await accessible(page, 'the code step');
      await screenshot(page, 'mfa-code-step.png');
      const account = await context.request.get('/account', { maxRedirects: 0 });
      assert.equal(account.status(), 303, 'no session before the second factor');

      let step = await enterCode(page, totp(key, enrolledStep));
      assert.equal(step.pageStatus, 401, 'a code is used once');
      assert.match(await mainText(page), /incorrect, or was already used/);
      await accessible(page, 'the code step with its error');
      await screenshot(page, 'mfa-code-refused.png');

      // The step after the one used (one step early is accepted for clock drift).
      step = await enterCode(page, totp(key, Math.max(stepAt(), enrolledStep + 1)));
      assert.equal(step.status, 303, await mainText(page));
      assert.equal(step.url.pathname, '/account');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  await t.test('a recovery code signs in once', async () => {
    let { context, page } = await passwordStep();
    try {
      const step = await enterCode(page, recoveryCodes[0]);
      assert.equal(step.pageStatus, 200, await mainText(page));
      assert.match(await mainText(page), /You have 9 left/);
      await accessible(page, 'the recovery code notice');
      await screenshot(page, 'mfa-recovery-used.png');
    } finally {
      await context.close();
    }
    ({ context, page } = await passwordStep());
    try {
      const again = await enterCode(page, recoveryCodes[0]);
      assert.equal(again.pageStatus, 401, 'a recovery code is used once');
    } finally {
      await context.close();
    }
  });
});

test('on a phone (390×844) the set-up page and the code step fit the screen and pass axe-core', async () => {
  const phone = { viewport: { width: 390, height: 844 } };
  const fits = async (page, what) => {
    assert.equal(await overflow(page), null, `${what} is no wider than the screen`);
    await accessible(page, what);
  };
  const newcomer = `mfa-phone-${RUN}`;
  await adminApi('POST', '/contacts', {
    username: newcomer,
    email: `${newcomer}@example.org`,
    first_name: 'Pho',
    last_name: 'Ne',
    password: PASSWORD,
  });
  const setup = await newPage(browser, phone);
  try {
    await setup.page.goto('/signin');
    await submit(setup.page, await fillSignIn(setup.page, newcomer, PASSWORD));
    await setup.page.goto('/account/mfa');
    assert.ok(await setup.page.locator('svg, img').first().isVisible(), 'the QR code is on the page');
    await fits(setup.page, 'the set-up page');
    await screenshot(setup.page, 'walk-phone-mfa-setup.png');
    assert.deepEqual(setup.problems, []);
  } finally {
    await setup.context.close();
  }
  // The member of the test above has the second step on.
  const step = await newPage(browser, phone);
  try {
    await step.page.goto('/signin');
    await submit(step.page, await fillSignIn(step.page, USERNAME, PASSWORD));
    await step.page.getByLabel('Code').waitFor();
    await fits(step.page, 'the code step');
    await screenshot(step.page, 'walk-phone-mfa-code-step.png');
    assert.deepEqual(step.problems, []);
  } finally {
    await step.context.close();
  }
});
