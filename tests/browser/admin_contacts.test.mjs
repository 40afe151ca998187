// The Contacts pages in a real browser: add a contact (a bad email is refused with the input
// kept), find it by search, edit it (a save from a form opened before another tab's change is
// refused, with what was typed kept), set its password, link and unlink a provider identity, see that a non-administrator is refused
// the admin, and delete it through the confirm page.
//
// GATEHOUSE_URL and GATEHOUSE_ADMIN_PASSWORD say where and how (username `admin`).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { accessibilityViolations, launchBrowser, newPage, screenshot, signIn, submit } from './browser.mjs';

const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const USERNAME = `member-${suffix}`;
const PASSWORD = `member-password-${suffix}`;

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('an administrator manages a contact through the pages', async (t) => {
  const { page, problems } = await newPage(browser);
  await signIn(page);

  let contactPath;
  await t.test('adds a contact; a bad email is refused and the input kept', async () => {
    await page.goto('/admin/contacts');
    await page.getByRole('link', { name: 'Add contact' }).click();
    await page.getByLabel('Username').fill(USERNAME);
    await page.getByLabel('Email').fill('bob@localhost');
    await page.getByLabel('First name').fill('Bob');
    await page.getByLabel('Last name').fill('Smith');
    await page.getByLabel('Member type').fill('REG');
    await page.getByLabel('Roles').fill('Volunteer\nBoardOfDirectors');
    await page.getByLabel('Attributes').fill('company=Example Ltd');
    let result = await submit(page, page.getByRole('button', { name: 'Add contact' }));
    assert.equal(result.status, 422);
    assert.match(await page.locator('.flash.error').innerText(), /Email: `bob@localhost` is not an email address/);
    assert.equal(await page.getByLabel('Username').inputValue(), USERNAME);
    assert.equal(await page.getByLabel('Roles').inputValue(), 'Volunteer\nBoardOfDirectors');
    assert.equal(await page.getByLabel('Attributes').inputValue(), 'company=Example Ltd');

    await page.getByLabel('Email').fill(`${USERNAME}@example.org`);
    result = await submit(page, page.getByRole('button', { name: 'Add contact' }));
    assert.equal(result.status, 303);
    assert.match(await page.locator('.flash').innerText(), /The contact was created/);
  });

  await t.test('finds it by search and edits it', async () => {
    await page.getByLabel('Search', { exact: true }).fill(USERNAME);
    await submit(page, page.getByRole('button', { name: 'Search' }));
    assert.equal(await page.locator('tbody tr').count(), 1);
    await page.getByRole('link', { name: `Edit ${USERNAME}` }).click();
    contactPath = new URL(page.url()).pathname;
    assert.equal(await page.getByLabel('Attributes').inputValue(), 'company=Example Ltd');
    await page.getByLabel('Last name').fill('Smythe');
    await page.getByLabel('Attributes').fill('company=Example Ltd\nnot a pair');
    let result = await submit(page, page.getByRole('button', { name: 'Save', exact: true }));
    assert.equal(result.status, 422);
    assert.match(await page.locator('.flash.error').innerText(), /Attributes: line 2: `not a pair` is not in the form name=value/);
    await page.getByLabel('Attributes').fill('company=Example Ltd');
    result = await submit(page, page.getByRole('button', { name: 'Save', exact: true }));
    assert.equal(result.status, 303);
    const row = page.locator('tbody tr', { hasText: USERNAME });
    assert.match(await row.innerText(), /Bob Smythe/);
  });

  await t.test('a save from a form opened before a change made in another tab is refused, what was typed kept', async () => {
    await page.goto(contactPath);
    const other = await page.context().newPage();
    await other.goto(contactPath);
    await other.getByLabel('First name').fill('Robert');
    assert.equal((await submit(other, other.getByRole('button', { name: 'Save', exact: true }))).status, 303);
    await other.close();
    await page.getByLabel('Member type').fill('VIP');
    let result = await submit(page, page.getByRole('button', { name: 'Save', exact: true }));
    assert.equal(result.status, 409);
    assert.match(
      await page.locator('.flash.error').innerText(),
      /Someone else changed this contact since you opened it\. It now differs from what you typed in: First name, Member type\./,
    );
    assert.equal(await page.getByLabel('Member type').inputValue(), 'VIP');
    assert.deepEqual(await accessibilityViolations(page), []);
    await screenshot(page, 'admin-contact-changed-meanwhile.png');
    await page.getByLabel('First name').fill('Robert');
    result = await submit(page, page.getByRole('button', { name: 'Save', exact: true }));
    assert.equal(result.status, 303);
    assert.match(await page.locator('tbody tr', { hasText: USERNAME }).innerText(), /Robert Smythe/);
  });

  await t.test('sets its password', async () => {
    await page.goto(contactPath);
    await page.getByLabel('New password').fill('short');
    let result = await submit(page, page.getByRole('button', { name: 'Set password' }));
    assert.equal(result.status, 422);
    assert.match(await page.locator('.flash.error').innerText(), /Password: must be at least/);
    await page.getByLabel('New password').fill(PASSWORD);
    result = await submit(page, page.getByRole('button', { name: 'Set password' }));
    assert.equal(result.status, 303);
    assert.match(await page.locator('.flash').innerText(), /The password was set/);
  });

  await t.test('links a provider identity, and unlinks it through the confirm page', async () => {
    await page.goto(contactPath);
    const identity = `https://login.example/${suffix}/v2.0|subject-${suffix}`;
    await page.getByLabel('Provider identity').fill('   ');
    let result = await submit(page, page.getByRole('button', { name: 'Link', exact: true }));
    assert.equal(result.status, 422);
    assert.match(await page.locator('.flash.error').innerText(), /Provider identity: is required/);
    await page.getByLabel('Provider identity').fill(identity);
    result = await submit(page, page.getByRole('button', { name: 'Link', exact: true }));
    assert.equal(result.status, 303);
    assert.match(await page.locator('.flash').innerText(), /The provider identity was linked/);
    assert.match(await page.locator('main').innerText(), new RegExp(`Linked to the provider identity ${identity.replace(/[.|/]/g, '\\$&')}`));
    await screenshot(page, 'admin-contact-linked.png');

    await page.getByRole('link', { name: 'Unlink…' }).click();
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Unlink the provider identity?');
    result = await submit(page, page.getByRole('button', { name: 'Unlink' }));
    assert.equal(result.status, 303);
    assert.match(await page.locator('.flash').innerText(), /The provider identity was unlinked/);
    await page.getByLabel('Provider identity').waitFor();
  });

  await t.test('a member who is not a system administrator is refused the admin', async () => {
    const member = await newPage(browser);
    try {
      await signIn(member.page, USERNAME, PASSWORD);
      const response = await member.page.goto('/admin/registrations');
      assert.equal(response.status(), 403);
      assert.match(await member.page.locator('main').innerText(), /Only system administrators/);
    } finally {
      await member.context.close();
    }
  });

  await t.test('deletes it through the confirm page', async () => {
    await page.goto('/admin/contacts');
    await page.getByRole('link', { name: `Delete ${USERNAME}` }).click();
    const result = await submit(page, page.getByRole('button', { name: 'Delete' }));
    assert.equal(result.status, 303);
    assert.match(await page.locator('.flash').innerText(), /The contact was deleted/);
    assert.equal(await page.locator('tbody tr', { hasText: USERNAME }).count(), 0);
  });

  await t.test('no page caused a browser error', () => {
    assert.deepEqual(problems, []);
  });
});
