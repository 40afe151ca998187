// The Signing keys and Outbox pages in a real browser: the ID token algorithm (HS512 with each
// registration's own key by default; ES256 (recommended), EdDSA, RS256 / RS512 with Gatehouse's
// keys), rotation behind a
// confirm page with the previous key still published at /jwks, and the mail Gatehouse sent.
//
// The algorithm is server-wide: the test puts HS512 back when it ends.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { messagesTo } from '../support/mailbox.mjs';
import { BASE, adminApi, adminCall, launchBrowser, mainText, newPage, screenshot, signIn, submit, uniqueSuffix } from './browser.mjs';

const RUN = uniqueSuffix();

let browser;
let session;

before(async () => {
  browser = await launchBrowser();
  session = await newPage(browser);
});

after(async () => {
  await adminCall('PUT', '/signing', { algorithm: 'HS512' }).catch(() => {});
  await browser?.close();
});

async function keyRows(page) {
  return page.locator('tbody tr').evaluateAll((rows) =>
    rows.map((row) => {
      const [kid, alg, created, retired, active] = [...row.querySelectorAll('td')].map((td) => td.innerText.trim());
      return { kid, alg, created, retired, active };
    }),
  );
}

async function publishedKids() {
  const res = await fetch(`${BASE}/jwks`);
  return (await res.json()).keys.map((k) => k.kid);
}

test('the administrator chooses the signing algorithm and rotates the key', async (t) => {
  const { page, problems } = session;

  await t.test('the Signing page shows the algorithms; HS512 has nothing to rotate', async () => {
    await signIn(page);
    // A reused server may have been left on another algorithm by a failed run.
    await adminApi('PUT', '/signing', { algorithm: 'HS512' });
    await page.goto('/admin');
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Signing' }).click();
    assert.equal(new URL(page.url()).pathname, '/admin/signing');
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Signing keys');
    assert.ok(await page.getByRole('radio', { name: 'HS512' }).isChecked());
    await page.getByRole('radio', { name: 'RS256' }).waitFor();
    await page.getByRole('radio', { name: 'RS512' }).waitFor();
    await page.getByRole('radio', { name: 'ES256' }).waitFor();
    await page.getByRole('radio', { name: 'EdDSA' }).waitFor();
    assert.match(await mainText(page), /Recommended for new deployments\. ECDSA P-256/);
    assert.match(await mainText(page), /HMAC SHA 512 with each app registration's own JWT Signing Key \(the default\)/);
    assert.equal(await page.getByRole('link', { name: 'Rotate' }).count(), 0, 'no Rotate button for HS512');
    const refused = await page.goto('/admin/signing/rotate');
    assert.equal(refused.status(), 409);
    assert.match(await page.locator('.flash.error').innerText(), /Rotation is for Gatehouse's own keys/);
  });

  let firstKid;
  await t.test('RS256: a key is made and published', async () => {
    await page.goto('/admin/signing');
    await page.getByRole('radio', { name: 'RS256' }).check();
    const result = await submit(page, page.getByRole('button', { name: 'Save' }));
    assert.equal(result.status, 303, await mainText(page));
    assert.match(await page.locator('.flash').innerText(), /The signing algorithm was saved/);
    assert.ok(await page.getByRole('radio', { name: 'RS256' }).isChecked());
    const active = (await keyRows(page)).filter((k) => k.active === 'Active');
    assert.equal(active.length, 1);
    assert.equal(active[0].alg, 'RS256');
    firstKid = active[0].kid;
    assert.ok((await publishedKids()).includes(firstKid));
  });

  await t.test('Rotate asks first, then a new key signs and the previous one stays published', async () => {
    await page.getByRole('link', { name: 'Rotate' }).click();
    assert.equal(new URL(page.url()).pathname, '/admin/signing/rotate');
    assert.match(await mainText(page), /The previous key stays published at \/jwks for \d+ hours, until the tokens it signed expire/);
    const result = await submit(page, page.getByRole('button', { name: 'Rotate' }));
    assert.equal(result.status, 303);
    assert.match(await page.locator('.flash').innerText(), /A new signing key was created/);
    const rows = await keyRows(page);
    const active = rows.filter((k) => k.active === 'Active');
    assert.equal(active.length, 1);
    assert.notEqual(active[0].kid, firstKid);
    const previous = rows.find((k) => k.kid === firstKid);
    assert.match(previous.retired, /still published until/);
    const kids = await publishedKids();
    assert.ok(kids.includes(firstKid) && kids.includes(active[0].kid), kids.join(','));
    await screenshot(page, 'admin-signing.png');
  });

  await t.test('back to HS512', async () => {
    await page.getByRole('radio', { name: 'HS512' }).check();
    const result = await submit(page, page.getByRole('button', { name: 'Save' }));
    assert.equal(result.status, 303);
    assert.equal((await adminApi('GET', '/signing')).algorithm, 'HS512');
    assert.equal(await page.getByRole('link', { name: 'Rotate' }).count(), 0);
  });

  await t.test('a form without the CSRF token is refused', async () => {
    const res = await page.request.post(`${BASE}/admin/signing`, { form: { algorithm: 'RS512' }, maxRedirects: 0 });
    assert.equal(res.status(), 403);
    assert.equal((await adminApi('GET', '/signing')).algorithm, 'HS512');
  });

  await t.test('no page caused a browser error', () => {
    assert.deepEqual(problems, []);
  });
});

test('the Outbox is a delivery log: the mail left, and no body or link is kept', async () => {
  const email = `outbox-${RUN}@example.org`;
  await adminApi('POST', '/contacts', { username: `outbox-${RUN}`, email, first_name: 'Otto', last_name: 'Box', password: `pw-${RUN}-outbox` });
  const { context, page, problems } = await newPage(browser);
  try {
    await page.goto('/signin/forgot-username');
    await page.getByLabel('Email').fill(email);
    const sent = await submit(page, page.getByRole('button', { name: 'Send' }));
    assert.ok(sent.pageStatus < 400, `forgot-username answered ${sent.pageStatus}`);
  } finally {
    await context.close();
  }
  const admin = session.page;
  await admin.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Outbox' }).click();
  assert.equal(new URL(admin.url()).pathname, '/admin/outbox');
  assert.equal(await admin.getByRole('heading', { level: 1 }).innerText(), 'Outbox');
  const row = admin.locator('tbody tr', { hasText: email });
  assert.equal(await row.count(), 1);
  const text = await row.innerText();
  assert.match(text, /Your .* username/);
  assert.match(text, /Sent by SMTP/);
  assert.ok(!(await admin.content()).includes('Your username at'), 'the body is not kept');
  const [mail, ...more] = messagesTo(email);
  assert.equal(more.length, 0, 'exactly one message');
  assert.ok(mail.text.includes(`outbox-${RUN}`), `the mail that arrived names the username: ${mail.text}`);
  await screenshot(admin, 'admin-outbox.png');
  assert.deepEqual(problems, []);
});
