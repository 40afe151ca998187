// The admin pages in a real browser: sign in as the administrator, create the profile and
// role queries through the Queries pages, then add, list, edit (with a bad redirect URL and
// Validate), regenerate the client secret of, and delete an app registration.
//
// GATEHOUSE_URL and GATEHOUSE_ADMIN_PASSWORD say where and how (username `admin`).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { BASE, accessibilityViolations, launchBrowser, newPage, screenshot, signIn, submit, submitWith } from './browser.mjs';

const PROFILE_QUERY = '$/SSO/ProfileData';
const ROLE_QUERY = '$/SSO/RoleData';
const GOOD_REDIRECT = 'https://thirdparty.example.org/sso/callback';
const BAD_REDIRECT = 'http://example.org/cb';
const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const APP_NAME = `Browser App ${suffix}`;
const RENAMED = `Renamed App ${suffix}`;

let browser;
let session;

before(async () => {
  browser = await launchBrowser();
  session = await newPage(browser);
});

after(async () => {
  await browser?.close();
});

/** The text of the page's main element, whitespace collapsed. */
async function mainText(page) {
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
}

/** Creates a query through /admin/queries/new unless it already exists (a reused server). */
async function ensureQuery(page, path, kind, columns) {
  await page.goto('/admin/queries');
  if (await page.getByRole('link', { name: path, exact: true }).count()) return;
  await page.getByRole('link', { name: 'Add query' }).click();
  await page.getByLabel('Path', { exact: true }).fill(path);
  await page.getByRole('radio', { name: kind === 'role' ? 'Role' : 'Profile' }).check();
  await page.getByLabel('Columns', { exact: true }).fill(columns);
  await page.getByLabel('Preview for username').fill('admin');

  let result = await submit(page, page.getByRole('button', { name: 'Validate', exact: true }));
  assert.equal(result.status, 200, await mainText(page));
  const shown = await mainText(page);
  assert.match(shown, new RegExp(`${path.replace(/\$/g, '\\$')} is a valid ${kind} query`));
  assert.match(shown, /Parameter username \(required\)/);
  assert.match(shown, /Preview for username admin/);
  assert.equal(await page.getByLabel('Columns', { exact: true }).inputValue(), columns, 'Validate keeps the input');

  result = await submit(page, page.getByRole('button', { name: 'Add query' }));
  assert.equal(result.status, 303, await mainText(page));
  assert.equal(result.url.pathname, '/admin/queries');
  assert.match(await page.locator('.flash').innerText(), /The query was created/);
  assert.equal(await page.getByRole('link', { name: path, exact: true }).count(), 1);
}

test('strangers are sent to sign in, and back afterwards', async () => {
  const { context, page } = await newPage(browser);
  try {
    await page.goto('/admin/registrations');
    let url = new URL(page.url());
    assert.equal(url.pathname, '/signin');
    assert.equal(url.searchParams.get('return_to'), '/admin/registrations');

    await page.goto('/admin/contacts?search=admin');
    url = new URL(page.url());
    assert.equal(url.searchParams.get('return_to'), '/admin/contacts?search=admin');
    const result = await signIn(page);
    assert.equal(`${result.url.pathname}${result.url.search}`, '/admin/contacts?search=admin');
    assert.equal(await page.getByLabel('Search', { exact: true }).inputValue(), 'admin');
  } finally {
    await context.close();
  }
});

test('an administrator manages an app registration through the pages', async (t) => {
  const { page, problems } = session;

  await t.test('signs in and lands on the App Registrations overview', async () => {
    await signIn(page);
    await page.goto('/admin');
    assert.equal(new URL(page.url()).pathname, '/admin/registrations');
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'App registrations');
    await page.getByRole('link', { name: 'Add App Registration' }).waitFor();
    for (const name of ['App registrations', 'Contacts', 'Queries']) {
      await page.getByRole('navigation').getByRole('link', { name }).waitFor();
    }
  });

  await t.test('creates the profile and role queries', async () => {
    await ensureQuery(
      page,
      PROFILE_QUERY,
      'profile',
      'first_name AS given_name\nlast_name AS family_name\nemail AS email\nstatus AS AccessRestrictionCode',
    );
    await ensureQuery(page, ROLE_QUERY, 'role', 'roles AS role');
  });

  await t.test('a form without the CSRF token is refused', async () => {
    const res = await page.request.post(`${BASE}/admin/registrations/new`, { form: { name: 'Forged' }, maxRedirects: 0 });
    assert.equal(res.status(), 403);
  });

  let clientId;
  await t.test('adds a registration', async () => {
    await page.goto('/admin/registrations');
    await page.getByRole('link', { name: 'Add App Registration' }).click();
    assert.equal(new URL(page.url()).pathname, '/admin/registrations/new');
    await page.getByLabel('App / Integration Name').fill(APP_NAME);
    await page.getByLabel('Redirect URL(s)').fill(GOOD_REDIRECT);
    await page.getByLabel('Profile query').selectOption(PROFILE_QUERY);
    await page.getByLabel('ID Token Additional Profile Fields').fill('given_name,family_name,sub');
    // The role query is picked from the saved role queries only.
    const roleChoices = await page.getByLabel('Role query').locator('option').allInnerTexts();
    assert.ok(roleChoices.includes(ROLE_QUERY) && !roleChoices.includes(PROFILE_QUERY), roleChoices.join(', '));
    await page.getByLabel('Role query').selectOption(ROLE_QUERY);
    await page.getByRole('radio', { name: 'Separate Values (Array)' }).check();
    assert.equal(await page.getByLabel('Role Field Name').inputValue(), 'roles');
    await page.getByLabel('No Access Mapping').fill('S\nX|https://example.org/');
    const authorizationCode = page.getByRole('checkbox', { name: 'Authorization Code' });
    assert.ok((await authorizationCode.isChecked()) && (await authorizationCode.isDisabled()));
    await page.getByRole('checkbox', { name: 'Implicit' }).check();
    assert.match(await mainText(page), /Certain grant types, such as ROPC and Implicit, have weaker security/);
    assert.ok(await page.getByRole('radio', { name: 'Client Secret (OIDC Core §10.1)' }).isChecked(), 'the page default');
    // Implicit apps hold no client secret, so they keep the seed's separate key.
    await page.getByRole('radio', { name: 'Separate JWT Signing Key' }).check();

    const result = await submit(page, page.getByRole('button', { name: 'Add App Registration' }));
    assert.equal(result.status, 303, await mainText(page));
    assert.match(result.url.pathname, /^\/admin\/registrations\/[0-9a-f-]{36}$/);
    assert.match(await page.locator('.flash').innerText(), /The app registration was created/);
    clientId = await page.getByLabel('Client ID').inputValue();
    assert.equal(result.url.pathname, `/admin/registrations/${clientId}`);
    assert.equal((await page.getByLabel('Client Secret', { exact: true }).inputValue()).length, 64);
    assert.equal((await page.getByLabel('JWT Signing Key', { exact: true }).inputValue()).length, 64);
  });

  await t.test('the overview lists it', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'App registrations' }).click();
    const row = page.locator('tbody tr', { hasText: APP_NAME });
    assert.equal(await row.count(), 1);
    const text = await row.innerText();
    assert.ok(text.includes(clientId), text);
    assert.ok(text.includes(GOOD_REDIRECT), text);
    assert.ok(text.includes('Authorization Code, Implicit'), text);
  });

  await t.test('edits it: a bad redirect URL is refused and the input kept', async () => {
    await page.getByRole('link', { name: `Edit ${APP_NAME}` }).click();
    assert.equal(new URL(page.url()).pathname, `/admin/registrations/${clientId}`);
    const shown = await mainText(page);
    assert.match(shown, /These saved fields are ignored: `sub` is a reserved claim/);
    assert.match(shown, /Regenerating the Client Secret or JWT Signing Key can cause third party integrations to stop working/);

    await page.getByLabel('App / Integration Name').fill(RENAMED);
    await page.getByLabel('Redirect URL(s)').fill(BAD_REDIRECT);
    const result = await submit(page, page.getByRole('button', { name: 'Save', exact: true }));
    assert.equal(result.status, 422);
    const error = await page.locator('.flash.error').innerText();
    assert.match(error, /Nothing was saved/);
    assert.match(error, /Redirect URL\(s\), line 1: `http:\/\/example\.org\/cb` must use https/);
    assert.equal(await page.getByLabel('App / Integration Name').inputValue(), RENAMED);
    assert.equal(await page.getByLabel('Redirect URL(s)').inputValue(), BAD_REDIRECT);
    assert.equal(await page.getByLabel('No Access Mapping').inputValue(), 'S\nX|https://example.org/');
    assert.ok(await page.getByRole('checkbox', { name: 'Implicit' }).isChecked());
    assert.equal(await page.getByLabel('Redirect URL(s)').getAttribute('aria-invalid'), 'true');
  });

  await t.test('Validate previews the query without saving', async () => {
    let result = await submit(page, page.getByRole('button', { name: 'Validate Profile query' }));
    assert.equal(new URL(page.url()).hash, '#profile_query', 'the page comes back at the field');
    assert.equal(result.status, 200);
    const panel = await page.locator('.flash[role=status]').innerText();
    assert.match(panel, /Validated \$\/SSO\/ProfileData: a profile query/);
    assert.match(panel, /username \(required\)/);
    assert.match(panel, /given_name from first_name/);
    assert.equal(await page.getByLabel('App / Integration Name').inputValue(), RENAMED, 'input is kept');
    assert.equal(await page.getByLabel('Redirect URL(s)').inputValue(), BAD_REDIRECT, 'input is kept');

    await page.getByLabel('Role query').selectOption(ROLE_QUERY);
    result = await submit(page, page.getByRole('button', { name: 'Validate Role query' }));
    assert.equal(result.status, 200);
    assert.match(await page.locator('.flash[role=status]').innerText(), /role from roles/);

    // Nothing was saved by any of this.
    await page.goto('/admin/registrations');
    assert.equal(await page.locator('tbody tr', { hasText: APP_NAME }).count(), 1);
    assert.equal(await page.locator('tbody tr', { hasText: RENAMED }).count(), 0);
  });

  await t.test('a good redirect URL saves the rename (Enter in a field saves, not Validate)', async () => {
    await page.getByRole('link', { name: `Edit ${APP_NAME}` }).click();
    await page.getByLabel('Redirect URL(s)').fill(`${GOOD_REDIRECT}\nhttps://thirdparty.example.org/sso/other`);
    const name = page.getByLabel('App / Integration Name');
    await name.fill(RENAMED);
    const result = await submitWith(page, () => name.press('Enter'));
    assert.equal(result.status, 303, await mainText(page));
    assert.equal(result.url.pathname, '/admin/registrations');
    assert.match(await page.locator('.flash').innerText(), /The app registration was saved/);
    const row = page.locator('tbody tr', { hasText: RENAMED });
    assert.equal(await row.count(), 1);
    assert.ok((await row.innerText()).includes('https://thirdparty.example.org/sso/other'));
    assert.equal(await page.locator('tbody tr', { hasText: APP_NAME }).count(), 0);
  });

  await t.test('regenerates the client secret after a warning', async () => {
    await page.getByRole('link', { name: `Edit ${RENAMED}` }).click();
    const before = await page.getByLabel('Client Secret', { exact: true }).inputValue();
    const signingKey = await page.getByLabel('JWT Signing Key', { exact: true }).inputValue();
    await page.getByRole('link', { name: 'Regenerate Client Secret' }).click();
    assert.equal(new URL(page.url()).pathname, `/admin/registrations/${clientId}/regenerate-secret`);
    const warning = await page.locator('.warning').innerText();
    assert.match(
      warning,
      /Regenerating the Client Secret or JWT Signing Key can cause third party integrations to stop working\. Always share the new Client Secret and JWT Signing Key with the third party if the values are regenerated\./,
    );
    const result = await submit(page, page.getByRole('button', { name: 'Regenerate' }));
    assert.equal(result.status, 303);
    assert.equal(result.url.pathname, `/admin/registrations/${clientId}`);
    assert.match(await page.locator('.flash').innerText(), /The Client Secret was regenerated/);
    const afterwards = await page.getByLabel('Client Secret', { exact: true }).inputValue();
    assert.equal(afterwards.length, 64);
    assert.notEqual(afterwards, before);
    assert.equal(await page.getByLabel('JWT Signing Key', { exact: true }).inputValue(), signingKey, 'only the secret changes');
    await screenshot(page, 'admin-registration.png');
  });

  await t.test('a save from a form opened before a change made in another tab is refused, what was typed kept', async () => {
    const editPath = `/admin/registrations/${clientId}`;
    await page.goto(editPath);
    const other = await page.context().newPage();
    await other.goto(editPath);
    await other.getByLabel('Post-Logout Return URL(s)').fill('https://thirdparty.example.org/bye');
    assert.equal((await submit(other, other.getByRole('button', { name: 'Save', exact: true }))).status, 303);
    await other.close();
    await page.getByLabel('Back-Channel Logout URL').fill('https://thirdparty.example.org/backchannel');
    let result = await submit(page, page.getByRole('button', { name: 'Save', exact: true }));
    assert.equal(result.status, 409, await mainText(page));
    assert.match(
      await page.locator('.flash.error').innerText(),
      /Someone else changed this registration since you opened it\. It now differs from what you typed in: Post-Logout Return URL\(s\), Back-Channel Logout URL\./,
    );
    assert.equal(await page.getByLabel('Back-Channel Logout URL').inputValue(), 'https://thirdparty.example.org/backchannel');
    assert.deepEqual(await accessibilityViolations(page), []);
    await screenshot(page, 'admin-registration-changed-meanwhile.png');
    result = await submit(page, page.getByRole('button', { name: 'Save', exact: true }));
    assert.equal(result.status, 303, 'saved over the newer revision once seen');
    await page.goto(editPath);
    assert.equal(await page.getByLabel('Back-Channel Logout URL').inputValue(), 'https://thirdparty.example.org/backchannel');
    assert.equal(await page.getByLabel('Post-Logout Return URL(s)').inputValue(), '', 'what was typed replaced it');
  });

  await t.test('a query in use cannot be deleted', async () => {
    await page.goto('/admin/queries');
    await page.getByRole('link', { name: `Delete ${PROFILE_QUERY}` }).click();
    const result = await submit(page, page.getByRole('button', { name: 'Delete' }));
    assert.equal(result.status, 409);
    assert.match(await page.locator('.flash.error').innerText(), /is used by registration/);
  });

  await t.test('deletes it through the trash icon and the confirm page', async () => {
    await page.goto('/admin/registrations');
    await page.getByRole('link', { name: `Delete ${RENAMED}` }).click();
    assert.equal(new URL(page.url()).pathname, `/admin/registrations/${clientId}/delete`);
    assert.match(
      await page.locator('.warning').innerText(),
      /Deleting an app registration will cause the third party SSO to immediately stop working\./,
    );
    const result = await submit(page, page.getByRole('button', { name: 'Delete' }));
    assert.equal(result.status, 303);
    assert.equal(result.url.pathname, '/admin/registrations');
    assert.match(await page.locator('.flash').innerText(), /The app registration was deleted/);
    assert.equal(await page.locator('tbody tr', { hasText: RENAMED }).count(), 0);
    const gone = await page.goto(`/admin/registrations/${clientId}`);
    assert.equal(gone.status(), 404);
  });

  await t.test('no page caused a browser error (CSP violations included)', () => {
    assert.deepEqual(problems, []);
  });
});
