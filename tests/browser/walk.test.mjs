// Issue 14: the pages a first-time administrator and a member use, in a real browser at a
// laptop's 1280×800 and a phone's 390×844.
//
// 1. A first-time administrator's walk: queries and an app registration from the web forms only
//    (the empty form shows every error at once, focus on the summary), the credentials copied
//    from the panel at the top (clipboard read back), Entra ID set up with Test connection
//    (tests/upstream/provider.mjs), and one contact found among 500.
// 2. Every member and admin page, error states included, at both sizes: no page wider than the
//    viewport, no axe-core violation, a screenshot under tests/.work/walk-<size>-<page>.png.
//
// Leaves OIDC Disabled (other test files sign in with passwords).

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
  overflow,
  screenshot,
  signIn,
  submit,
  uniqueSuffix,
} from './browser.mjs';

const RUN = uniqueSuffix();
const PASSWORD = `walk-password-${RUN}`;
const CONTACTS = 500;
const ROLE_CLAIM = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
const REDIRECT = 'https://thirdparty.example.org/sso/callback';
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

let browser;
let provider;
let providerError;
/** Made through the admin API, for the page walk (the first-time walk makes its own in the forms). */
let fixture;

const contactName = (i) => `walk-${RUN}-${String(i).padStart(3, '0')}`;

before(async () => {
  if (!process.env.GATEHOUSE_ADMIN_PASSWORD) throw new Error('GATEHOUSE_ADMIN_PASSWORD is not set');
  browser = await launchBrowser();
  try {
    provider = await startProvider('entra', { callback: `${BASE}/callback` });
  } catch (e) {
    providerError = e;
  }
  const profileQuery = `$/Walk/${RUN}/ApiProfile`;
  const roleQuery = `$/Walk/${RUN}/ApiRoles`;
  await adminApi('POST', '/queries', {
    path: profileQuery,
    kind: 'profile',
    columns: [
      { source: 'first_name', alias: 'given_name' },
      { source: 'email', alias: 'email' },
      { source: 'status', alias: 'AccessRestrictionCode' },
    ],
  });
  await adminApi('POST', '/queries', { path: roleQuery, kind: 'role', columns: [{ source: 'roles', alias: 'role' }] });
  const registration = await adminApi('POST', '/registrations', {
    name: `Walk Pages ${RUN}`,
    redirect_urls: [REDIRECT],
    profile_query: profileQuery,
    role_query: roleQuery,
    role_format: 'array',
    no_access_mapping: 'S',
    grant_types: [],
  });
  const member = (username, status) =>
    adminApi('POST', '/contacts', {
      username,
      email: `${username}@example.org`,
      first_name: 'Walker',
      last_name: 'Member',
      password: PASSWORD,
      status,
      roles: ['Member'],
    });
  // One member per screen size: each sees the consent page once.
  const active = await member(`walker-${RUN}`, 'A');
  await member(`walker-${RUN}-phone`, 'A');
  await member(`suspended-${RUN}`, 'S');
  // 500 contacts, ten at a time.
  for (let start = 0; start < CONTACTS; start += 10) {
    await Promise.all(
      Array.from({ length: 10 }, (_, k) => start + k).map((i) =>
        adminApi('POST', '/contacts', {
          username: contactName(i),
          email: `${contactName(i)}@example.org`,
          first_name: `First${i}`,
          last_name: `Last${i}`,
          status: i % 7 === 0 ? 'S' : 'A',
        }),
      ),
    );
  }
  fixture = { clientId: registration.client_id, profileQuery, activeId: active.id, active: `walker-${RUN}`, suspended: `suspended-${RUN}` };
});

after(async () => {
  await adminCall('PUT', '/oidc-settings', { mode: 'disabled' }).catch(() => {});
  await provider?.stop();
  await browser?.close();
});

/** A new signed-out page at `viewport` whose clipboard the page may read and write. */
function pageAt(viewport) {
  return newPage(browser, {
    viewport: { width: viewport.width, height: viewport.height },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
}

/** The app link a client puts behind "Sign in" (no PKCE: the walk never redeems the code). */
function appLink() {
  const url = new URL('/authorize', BASE);
  url.search = new URLSearchParams({
    client_id: fixture.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid profile email',
    state: `state-${RUN}`,
    nonce: `nonce-${RUN}`,
  }).toString();
  return url.href;
}

test("a first-time administrator's walk", async (t) => {
  const { context, page, problems } = await pageAt(VIEWPORTS[0]);
  const profileQuery = `$/Walk/${RUN}/Profile`;
  const roleQuery = `$/Walk/${RUN}/Roles`;
  try {
    await signIn(page);

    await t.test('adds the profile and role queries on the Queries page', async () => {
      for (const [path, kind, columns] of [
        [profileQuery, 'Profile', 'first_name AS given_name\nemail AS email'],
        [roleQuery, 'Role', 'roles AS role'],
      ]) {
        await page.goto('/admin/queries');
        await page.getByRole('link', { name: 'Add query' }).click();
        await page.getByLabel('Path').fill(path);
        await page.getByRole('radio', { name: kind }).check();
        await page.getByLabel('Columns').fill(columns);
        const result = await submit(page, page.getByRole('button', { name: 'Add query' }));
        assert.equal(result.status, 303, await mainText(page));
      }
      await page.getByLabel('Search', { exact: true }).fill(`Walk/${RUN}/Ro`);
      await submit(page, page.getByRole('button', { name: 'Search', exact: true }));
      assert.equal(await page.locator('tbody tr').count(), 1, 'the search finds the role query only');
      assert.match(await mainText(page), /1 of \d+ queries match/);
    });

    let clientId;
    await t.test('the empty registration form shows every error at once, focus on the summary', async () => {
      await page.goto('/admin/registrations');
      await page.getByRole('link', { name: 'Add App Registration' }).click();
      for (const name of ['name', 'redirect_urls', 'profile_query', 'role_query']) {
        const row = page.locator('.label-row', { has: page.locator(`label[for=${name}]`) });
        assert.match(await row.innerText(), /\(required\)/, `${name} is marked required`);
        assert.equal(await page.locator(`#${name}`).getAttribute('aria-required'), 'true', name);
      }
      const result = await submit(page, page.getByRole('button', { name: 'Add App Registration' }));
      assert.equal(result.status, 422);
      const summary = page.locator('.error-summary');
      const links = await summary.getByRole('link').allInnerTexts();
      assert.equal(links.length, 4, links.join(' / '));
      assert.match(links.join('\n'), /App \/ Integration Name: is required/);
      assert.match(links.join('\n'), /Redirect URL\(s\): at least one redirect URL is required/);
      assert.match(links.join('\n'), /Profile query: /);
      assert.match(links.join('\n'), /Role query: /);
      assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('error-summary')), true);
      for (const name of ['name', 'redirect_urls', 'profile_query', 'role_query']) {
        const field = page.locator(`#${name}`);
        assert.equal(await field.getAttribute('aria-invalid'), 'true', name);
        assert.equal(await field.getAttribute('aria-describedby'), `${name}-error`, name);
        assert.ok((await page.locator(`#${name}-error`).innerText()).length > 0, name);
      }
      await summary.getByRole('link').first().click();
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'name', 'the summary link leads to the field');
      await screenshot(page, 'walk-first-time-errors.png');
    });

    await t.test('fixes them and adds the registration (input kept)', async () => {
      await page.getByLabel('App / Integration Name').fill(`First App ${RUN}`);
      await page.getByLabel('Redirect URL(s)').fill(REDIRECT);
      await page.getByLabel('Profile query').selectOption(profileQuery);
      await page.getByLabel('Role query').selectOption(roleQuery);
      const result = await submit(page, page.getByRole('button', { name: 'Add App Registration' }));
      assert.equal(result.status, 303, await mainText(page));
      clientId = result.url.pathname.split('/').pop();
    });

    await t.test('the credentials are at the top: masked, shown on request, copied to the clipboard', async () => {
      const heading = page.getByRole('heading', { name: 'Credentials to share with the third party' });
      const box = await heading.boundingBox();
      assert.ok(box && box.y < 400, `the credentials start at the top of the page (y=${box?.y})`);
      assert.equal(await page.getByLabel('Client ID', { exact: true }).inputValue(), clientId);
      const secret = page.getByLabel('Client Secret', { exact: true });
      assert.equal(await secret.getAttribute('type'), 'password', 'masked');
      const value = await secret.inputValue();
      assert.equal(value.length, 64);
      await page.getByRole('button', { name: 'Show Client Secret' }).click();
      assert.equal(await secret.getAttribute('type'), 'text', 'shown');
      await page.getByRole('button', { name: 'Hide Client Secret' }).click();
      assert.equal(await secret.getAttribute('type'), 'password', 'masked again');

      await page.getByRole('button', { name: 'Copy Client Secret' }).click();
      await page.locator('#client_secret-status', { hasText: 'Copied.' }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), value, 'the clipboard holds the secret');
      await page.getByRole('button', { name: 'Copy Client ID' }).click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), clientId);
      await page.getByRole('button', { name: 'Copy Discovery URL' }).click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${BASE}/.well-known/openid-configuration`);
      assert.equal(await page.getByLabel('Issuer', { exact: true }).inputValue(), BASE);
      assert.ok((await mainText(page)).includes(REDIRECT), 'the redirect URLs are listed');
      await page.getByRole('link', { name: 'Regenerate Client Secret' }).waitFor();
      assert.match(await page.locator('.credentials .warning').innerText(), /Regenerating the Client Secret/);
      await screenshot(page, 'walk-first-time-credentials.png');
    });

    await t.test('sets up Entra ID with Test connection, then saves it', async (t2) => {
      if (!provider) {
        t2.skip(`the provider harness did not start: ${providerError?.message}`);
        return;
      }
      await page.goto('/admin/oidc');
      await page.getByRole('radio', { name: 'Test mode', exact: true }).check();
      await page.getByLabel('Type', { exact: true }).selectOption({ label: 'Entra ID' });
      assert.ok(await page.getByLabel('Tenant', { exact: true }).isVisible(), 'Entra ID asks for the tenant');
      assert.ok(!(await page.getByLabel('Well-Known URL').isVisible()), 'and not for the Okta-only Well-Known URL');
      await page.getByLabel('Name', { exact: true }).fill(`Walk Entra ${RUN}`);
      await page.getByLabel('Client ID', { exact: true }).fill('entra-client');
      await page.getByLabel('Client Secret', { exact: true }).fill('entra-secret');
      await page.getByLabel('Tenant', { exact: true }).fill(provider.tenant);
      await page.getByLabel('Authority URL', { exact: true }).fill(`http://127.0.0.1:9/${RUN}/v2.0`);
      await page.getByLabel('Redirect login URL').fill(`${BASE}/callback`);
      await page.getByLabel('Claim type').fill(ROLE_CLAIM);
      await page.getByLabel('Claim value').fill('iMIS_OIDC_Access');
      await page.getByLabel('Multi-factor authentication').selectOption({ label: 'Off' });

      let result = await submit(page, page.getByRole('button', { name: 'Test connection' }));
      assert.equal(result.status, 422);
      assert.equal(new URL(page.url()).hash, '#test-connection', 'the page comes back at the button');
      const failure = await page.locator('#test-connection ~ .flash.error').innerText();
      assert.match(failure, /The connection failed\. Gatehouse could not connect to http:\/\/127\.0\.0\.1:9\/.*: nothing answered\./);
      assert.doesNotMatch(failure, /error sending request/, 'no library jargon');
      assert.equal(await page.getByLabel('Claim value').inputValue(), 'iMIS_OIDC_Access', 'input kept');
      await screenshot(page, 'walk-first-time-test-connection-failed.png');

      await page.getByLabel('Client Secret', { exact: true }).fill('entra-secret');
      await page.getByLabel('Authority URL', { exact: true }).fill(provider.issuer);
      result = await submit(page, page.getByRole('button', { name: 'Test connection' }));
      assert.equal(result.status, 200, await mainText(page));
      const success = await page.locator('#test-connection ~ .flash').innerText();
      assert.match(success, /Connected\./);
      assert.ok(success.includes(provider.issuer), success);
      assert.match(success, /publishes \d+ signing keys?/);
      assert.equal((await adminApi('GET', '/oidc-settings')).mode, 'disabled', 'testing saves nothing');

      await page.getByLabel('Client Secret', { exact: true }).fill('entra-secret');
      result = await submit(page, page.getByRole('button', { name: 'Save', exact: true }));
      assert.equal(result.status, 303, await mainText(page));
      assert.equal((await adminApi('GET', '/oidc-settings')).mode, 'test');
      await adminApi('PUT', '/oidc-settings', { mode: 'disabled' });
    });

    await t.test('finds one contact among 500: pages, search', async () => {
      await page.goto('/admin/contacts');
      assert.equal(await page.locator('main p[role=status]').innerText(), 'All contacts, by username.');
      assert.equal(await page.locator('tbody tr').count(), 50);
      const statuses = await page.locator('td[data-label=Status]').allInnerTexts();
      assert.ok(statuses.includes('Active (A)') && statuses.includes('Suspended (S)'), `statuses in words: ${statuses}`);
      const firstPage = await page.locator('td[data-label=Username]').allInnerTexts();
      await page.getByRole('link', { name: 'Next page →' }).click();
      const secondPage = await page.locator('td[data-label=Username]').allInnerTexts();
      assert.equal(secondPage.length, 50);
      assert.ok(secondPage[0] > firstPage[49], `the next page goes on by username: ${firstPage[49]} then ${secondPage[0]}`);
      assert.ok(await page.getByRole('link', { name: '← First page' }).isVisible());

      await page.getByLabel('Search', { exact: true }).fill(contactName(417).toUpperCase());
      await submit(page, page.getByRole('button', { name: 'Search', exact: true }));
      assert.match(await page.locator('main p[role=status]').innerText(), /^Contacts whose username, last name or email starts with/);
      assert.equal(await page.locator('tbody tr').count(), 1);
      await page.getByRole('link', { name: `Edit ${contactName(417)}` }).click();
      assert.equal(await page.getByLabel('Username').inputValue(), contactName(417));

      // By last name: Last41 and Last410-419, last names after the usernames.
      await page.goto('/admin/contacts?search=last41');
      assert.equal(await page.locator('tbody tr').count(), 11);

      // Every page of a search that matches all 500 by username and by email: each once.
      await page.goto(`/admin/contacts?search=walk-${RUN}`);
      const seen = [];
      for (let pages = 0; pages < 30; pages += 1) {
        seen.push(...(await page.locator('td[data-label=Username]').allInnerTexts()));
        const next = page.getByRole('link', { name: 'Next page →' });
        if (!(await next.count())) break;
        await next.click();
      }
      assert.equal(seen.length, CONTACTS, 'every match');
      assert.equal(new Set(seen).size, CONTACTS, 'each once');
    });

    await t.test("words the No Access page's contact line on Member pages", async () => {
      await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Member pages' }).click();
      await page.getByLabel('Contact text').fill('Questions about your membership? Ask us.');
      await page.getByLabel('Contact link address').fill('http://example.org/help');
      await page.getByLabel('Contact link text').fill('Email the membership team');
      let result = await submit(page, page.getByRole('button', { name: 'Save', exact: true }));
      assert.equal(result.status, 422);
      assert.match(await page.locator('.error-summary').innerText(), /Contact link address: .*must be an https:\/\/ page or a mailto: address/);
      assert.equal(await page.getByLabel('Contact link text').inputValue(), 'Email the membership team', 'input kept');
      await page.getByLabel('Contact link address').fill('mailto:membership@example.org');
      result = await submit(page, page.getByRole('button', { name: 'Save', exact: true }));
      assert.equal(result.status, 303, await mainText(page));
      assert.equal(await page.getByLabel('Contact link address').inputValue(), 'mailto:membership@example.org');
    });

    await t.test('no page caused a browser error (CSP violations included)', () => {
      assert.deepEqual(problems, []);
    });
  } finally {
    await context.close();
  }
});

test('every page at both sizes: as wide as the screen, no axe-core violations, screenshots', async (t) => {
  const findings = [];
  const shots = [];

  for (const viewport of VIEWPORTS) {
    /** Checks the page as it is now. */
    const look = async (page, name) => {
      const wide = await overflow(page);
      if (wide) findings.push(`${viewport.name} ${name}: ${wide}`);
      for (const v of await accessibilityViolations(page)) findings.push(`${viewport.name} ${name}: ${v}`);
      shots.push(await screenshot(page, `walk-${viewport.name}-${name}.png`));
    };
    const visit = async (page, name, path) => {
      await page.goto(path);
      await look(page, name);
    };

    await t.test(`${viewport.name}: member pages`, async () => {
      const { context, page, problems } = await pageAt(viewport);
      try {
        await visit(page, 'signin', '/signin');
        await visit(page, 'forgot-username', '/signin/forgot-username');
        await visit(page, 'forgot-password', '/signin/forgot-password');
        await visit(page, 'not-found', `/nothing-here-${RUN}`);
        await page.goto('/signin');
        const walker = viewport.name === 'phone' ? `${fixture.active}-phone` : fixture.active;
        await page.getByLabel('Username or email').fill(walker);
        await page.getByLabel('Password').fill('wrong password');
        await submit(page, page.getByRole('button', { name: 'Sign in' }));
        await look(page, 'signin-error');

        await page.goto(appLink());
        await look(page, 'signin-to-app');
        await signIn(page, walker, PASSWORD);
        assert.equal(new URL(page.url()).pathname, '/authorize');
        await look(page, 'consent');
        // Allow, posted as the form would be but without following the redirect to the app
        // (not reachable here), so the account lists the app.
        const allow = await page.getByRole('button', { name: 'Allow' }).evaluate((button) => ({
          action: button.form.action,
          fields: [...new FormData(button.form, button)],
        }));
        const allowed = await page.request.post(allow.action, { form: Object.fromEntries(allow.fields), maxRedirects: 0 });
        assert.equal(allowed.status(), 303);
        assert.ok(allowed.headers().location.startsWith(REDIRECT), allowed.headers().location);
        await visit(page, 'account', '/account');
        assert.ok((await mainText(page)).includes(`Walk Pages ${RUN}`), 'the account lists the allowed app');
        await visit(page, 'admin-refused', '/admin/registrations');
        await visit(page, 'signout', '/signout');
        await page.getByRole('link', { name: 'Stay signed in' }).waitFor();
        await submit(page, page.getByRole('button', { name: 'Sign out' }));
        assert.equal(new URL(page.url()).pathname, '/signout/done');
        await look(page, 'signed-out');
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
      const suspended = await pageAt(viewport);
      try {
        await suspended.page.goto(appLink());
        await signIn(suspended.page, fixture.suspended, PASSWORD);
        assert.match(await mainText(suspended.page), /Questions about your membership\? Ask us\. Email the membership team/);
        const contactLink = suspended.page.getByRole('link', { name: 'Email the membership team' });
        assert.equal(await contactLink.getAttribute('href'), 'mailto:membership@example.org');
        await look(suspended.page, 'no-access');
      } finally {
        await suspended.context.close();
      }
    });

    await t.test(`${viewport.name}: admin pages, error states included`, async () => {
      const { context, page, problems } = await pageAt(viewport);
      try {
        await signIn(page);
        const id = fixture.clientId;
        const contact = fixture.activeId;
        const query = encodeURIComponent(fixture.profileQuery);
        for (const [name, path] of [
          ['registrations', '/admin/registrations'],
          ['registrations-search', `/admin/registrations?search=${RUN}`],
          ['registration-new', '/admin/registrations/new'],
          ['registration-edit', `/admin/registrations/${id}`],
          ['registration-regenerate', `/admin/registrations/${id}/regenerate-secret`],
          ['registration-delete', `/admin/registrations/${id}/delete`],
          ['contacts', '/admin/contacts'],
          ['contacts-search', `/admin/contacts?search=walk-${RUN}-41`],
          ['contacts-bad-cursor', '/admin/contacts?after=stale'],
          ['contact-new', '/admin/contacts/new'],
          ['contact-edit', `/admin/contacts/${contact}`],
          ['contact-sessions', `/admin/contacts/${contact}/sessions`],
          ['contact-delete', `/admin/contacts/${contact}/delete`],
          ['queries', '/admin/queries'],
          ['query-new', '/admin/queries/new'],
          ['query-edit', `/admin/queries/edit?path=${query}`],
          ['oidc', '/admin/oidc'],
          ['oidc-logs', '/admin/oidc/logs'],
          ['oidc-logs-refused', '/admin/oidc/logs?from=2026-02-01&to=2026-01-01'],
          ['signing', '/admin/signing'],
          ['outbox', '/admin/outbox'],
          ['member-pages', '/admin/member-pages'],
          ['admin-not-found', `/admin/nothing-here-${RUN}`],
        ]) {
          await visit(page, name, path);
        }

        await page.goto('/admin/registrations/new');
        await submit(page, page.getByRole('button', { name: 'Add App Registration' }));
        await look(page, 'registration-new-errors');

        await page.goto('/admin/contacts/new');
        await page.getByLabel('Email').fill('bob@localhost');
        await submit(page, page.getByRole('button', { name: 'Add contact' }));
        await look(page, 'contact-new-errors');

        await page.goto('/admin/queries/new');
        await page.getByLabel('Path').fill('no-dollar');
        await page.getByLabel('Columns').fill('nope AS x\nfirst_name AS bad alias');
        await submit(page, page.getByRole('button', { name: 'Add query' }));
        await look(page, 'query-new-errors');
        assert.ok((await page.locator('.error-summary li').count()) >= 3, 'the query form lists every problem');

        await page.goto('/admin/oidc');
        await page.getByRole('radio', { name: 'Test mode', exact: true }).check();
        await page.getByLabel('Type', { exact: true }).selectOption({ label: 'Entra ID' });
        await page.getByLabel('Claim type').fill(ROLE_CLAIM.replace('http:', 'https:'));
        await submit(page, page.getByRole('button', { name: 'Save', exact: true }));
        await look(page, 'oidc-errors');
        const oidcProblems = await page.locator('.error-summary li').allInnerTexts();
        assert.deepEqual(
          oidcProblems.map((p) => p.split(':')[0]),
          ['Client ID', 'Tenant', 'Claim value', 'Claim type'],
          'the OIDC settings list every problem at once',
        );
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }

  await t.test('every page fits and passes axe-core', () => {
    assert.ok(shots.length >= 2 * 30, `${shots.length} screenshots`);
    assert.deepEqual(findings, []);
  });
});
