// The Foundation's "Done when" journey, through the browser only, as real people would do it:
// first-run setup, the administrator's MFA enrolment, adding a clinic and two colleagues,
// the clinician's and the IG auditor's first sign-ins, and the audit viewer. Every distinct
// page is checked with axe-core and at phone width on the way (see lib/checks.mjs); the
// last tests report what those checks found.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from './lib/fixtures.mjs';
import { checkPage, DESKTOP, findings, formatAxe, formatOverflow, loadFindings, saveFindings } from './lib/checks.mjs';
import { msUntilNextStep, stepAt, totp } from './lib/totp.mjs';

const ORG = 'Riverside Health Centre';
const CLINIC = 'Physiotherapy';
const ADMIN = {
  name: 'Alex Morgan',
  email: 'alex.morgan@riverside-health.org.uk',
  password: 'copper lantern drifting meadow',
};
const CLINICIAN = {
  name: 'Priya Shah',
  email: 'priya.shah@riverside-health.org.uk',
  role: 'Clinician',
  initial: 'violet harbour tumbling kettle',
  password: 'granite swallow orchard pebble',
};
const AUDITOR = {
  name: 'Tom Okafor',
  email: 'tom.okafor@riverside-health.org.uk',
  role: 'IG auditor',
  initial: 'saffron glacier whistle bramble',
  password: 'cobalt quiver lantern thistle',
};
const CSV_HEADER = 'seq,time,actor_kind,actor_id,action,object,org_id,client_addr,detail,prev_hash,hash';

const base = () => process.env.HAVEN_E2E_BASE;
const outDir = () => process.env.HAVEN_E2E_OUT;

/** @type {import('@playwright/test').BrowserContext} */
let context;
/** @type {import('@playwright/test').Page} */
let page;
/** What the journey learnt: authenticator secrets, the last TOTP step used, user ids. */
const secrets = {};
const lastStep = {};
const ids = {};

/** One browser window for the whole journey, watched for anything it should not do. */
async function openBrowser(browser) {
  context = await browser.newContext({ baseURL: base(), viewport: DESKTOP, locale: 'en-GB', timezoneId: 'Europe/London' });
  page = await context.newPage();
  const note = (list, text) => {
    findings[list].push(text);
    saveFindings();
  };
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.protocol !== 'data:' && url.origin !== base()) note('offsite', r.url());
  });
  page.on('response', (r) => {
    if (r.request().resourceType() !== 'document' && r.status() >= 400) note('failedAssets', `${r.status()} ${r.url()}`);
  });
  page.on('console', (m) => {
    // A form answered with 400 (field errors) logs "Failed to load resource"; assets are
    // checked through failedAssets instead.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) note('consoleErrors', `${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => note('consoleErrors', `${page.url()}: ${e.message}`));
}

const heading = () => page.getByRole('heading', { level: 1 });
const mainNav = () => page.getByRole('navigation', { name: 'Main' });

async function signIn(email, password) {
  await page.goto('/signin');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signOut() {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
}

/** Waits, if need be, for a TOTP step this user has not used yet (codes work once). */
async function freshStep(who) {
  if (lastStep[who] !== undefined && stepAt() <= lastStep[who]) {
    await page.waitForTimeout(msUntilNextStep() + 250);
  }
  const step = stepAt();
  lastStep[who] = step;
  return totp(secrets[who], step * 30_000);
}

/**
 * On the enrolment page: reads the key as a person would type it into their app (the
 * grouped text), checks it is the form's hidden key, enters the app's code, and checks the
 * recovery codes page. Leaves the browser on the page the "continue" link goes to.
 */
async function enrolMfa(who, { checks = false, wrongCodeFirst = false } = {}) {
  await expect(page).toHaveURL(/\/account\/mfa$/);
  await expect(heading()).toHaveText('Set up two-step sign-in');
  await expect(page.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  const shown = (await page.locator('.secret').innerText()).trim();
  expect(shown).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
  const hidden = await page.locator('input[name="secret"]').inputValue();
  expect(shown.replace(/\s+/g, '')).toBe(hidden);
  secrets[who] = shown.replace(/\s+/g, '');
  if (checks) await checkPage(page, 'MFA enrolment');

  const codeField = page.getByLabel('Enter the 6-digit code the app shows');
  if (wrongCodeFirst) {
    // A code that is right for no step near now.
    const near = new Set([-1, 0, 1].map((d) => totp(secrets[who], Date.now() + d * 30_000)));
    let wrong = 123456;
    while (near.has(String(wrong))) wrong += 1;
    await codeField.fill(String(wrong));
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await expect(page.getByRole('alert')).toContainText('That code is not right');
    await expect(codeField).toHaveAttribute('aria-invalid', 'true');
    // The same key is offered again, so the app need not be set up twice.
    await expect(page.locator('input[name="secret"]')).toHaveValue(secrets[who]);
    if (checks) await checkPage(page, 'MFA enrolment (wrong code)');
  }

  await codeField.fill(await freshStep(who));
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await expect(heading()).toHaveText('Save your recovery codes');
  const codes = page.locator('ul.codes li');
  await expect(codes).toHaveCount(10);
  const all = await codes.allInnerTexts();
  expect(new Set(all).size).toBe(10);
  if (checks) await checkPage(page, 'recovery codes');
  await page.getByRole('link', { name: /I have saved my codes/ }).click();
}

/** On the forced password change page: changes the password and lands on the dashboard. */
async function changePassword(user, { checks = false } = {}) {
  await expect(page).toHaveURL(/\/account\/password$/);
  await expect(heading()).toHaveText('Change your password');
  await expect(page.getByText('Your password was set by an administrator')).toBeVisible();
  if (checks) await checkPage(page, 'password change (forced)');
  // Nothing else is reachable until the password is changed.
  await page.goto('/');
  await expect(page).toHaveURL(/\/account\/password$/);

  if (checks) {
    await page.getByLabel('Current password').fill('not my current password');
    await page.getByLabel('New password').fill(user.password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByRole('alert')).toBeVisible();
    await expect(page.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');
    await checkPage(page, 'password change (field errors)');
  }

  await page.getByLabel('Current password').fill(user.initial);
  await page.getByLabel('New password').fill(user.password);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page).toHaveURL(`${base()}/`);
  await expect(heading()).toHaveText(`Hello, ${user.name}`);
}

test.describe('the Foundation journey', () => {
  // Each step needs the one before it.
  test.describe.configure({ mode: 'serial' });

  test.beforeAll(async ({ browser }) => openBrowser(browser));
  test.afterAll(async () => context?.close());

  test('the setup link opens the setup form, which refuses an empty submission field by field', async () => {
    await page.goto(process.env.HAVEN_E2E_SETUP_LINK);
    await expect(heading()).toHaveText('Set up Haven');
    await checkPage(page, 'setup');

    await page.getByRole('button', { name: 'Create organisation' }).click();
    const summary = page.getByRole('alert');
    await expect(summary).toContainText('There is a problem');
    for (const [id, label] of [
      ['organisation', 'Organisation name'],
      ['name', 'Your full name'],
      ['email', 'Your work email address'],
      ['password', 'Choose a password'],
    ]) {
      const input = page.getByLabel(label);
      await expect(input, `${label} is marked invalid`).toHaveAttribute('aria-invalid', 'true');
      // The message is announced with the field and linked from the summary.
      await expect(input).toHaveAttribute('aria-describedby', new RegExp(`\\b${id}-error\\b`));
      await expect(summary.locator(`a[href="#${id}"]`)).toHaveCount(1);
    }
    await checkPage(page, 'setup (field errors)');
  });

  test('setup creates the organisation and its first administrator; the link then stops working', async () => {
    await page.getByLabel('Organisation name').fill(ORG);
    await page.getByLabel('Your full name').fill(ADMIN.name);
    await page.getByLabel('Your work email address').fill(ADMIN.email);
    await page.getByLabel('Choose a password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await expect(page).toHaveURL(/\/signin\?setup=done$/);
    await expect(page.getByRole('status')).toContainText('Your organisation is set up');
    await checkPage(page, 'sign-in');

    const again = await page.goto(process.env.HAVEN_E2E_SETUP_LINK);
    expect(again.status()).toBe(404);
    await expect(heading()).toHaveText('This setup link cannot be used');
    await checkPage(page, 'used setup link');
  });

  test('the administrator signs in and must set up two-step sign-in first', async () => {
    await signIn(ADMIN.email, ADMIN.password);
    await enrolMfa('admin', { checks: true, wrongCodeFirst: true });
    await expect(page).toHaveURL(`${base()}/`);
    await expect(heading()).toHaveText(`Hello, ${ADMIN.name}`);
    await expect(page.getByText(ORG)).toBeVisible();
    await checkPage(page, 'dashboard (administrator)');
  });

  test('the administrator adds a clinic, a clinician and an IG auditor, and puts the clinician in the clinic', async () => {
    await mainNav().getByRole('link', { name: 'Clinics' }).click();
    await expect(heading()).toHaveText('Clinics');
    await expect(page.getByText('There are no clinics yet.')).toBeVisible();
    await checkPage(page, 'clinics');
    await page.getByLabel('Clinic name').fill(CLINIC);
    await page.getByRole('button', { name: 'Add clinic' }).click();
    await expect(page).toHaveURL(/\/admin\/clinics\/[^/]+$/);
    await expect(heading()).toHaveText(CLINIC);
    await expect(page.getByText('No members yet.')).toBeVisible();
    await checkPage(page, 'clinic');

    for (const [key, user] of [['clinician', CLINICIAN], ['auditor', AUDITOR]]) {
      await mainNav().getByRole('link', { name: 'Users' }).click();
      await expect(heading()).toHaveText('Users');
      if (key === 'clinician') await checkPage(page, 'users');
      await page.getByLabel('Full name').fill(user.name);
      await page.getByLabel('Work email address').fill(user.email);
      await page.getByRole('group', { name: 'Roles' }).getByLabel(user.role, { exact: true }).check();
      await page.getByLabel('Initial password').fill(user.initial);
      await page.getByRole('button', { name: 'Add user' }).click();
      await expect(page).toHaveURL(/\/admin\/users\/[^/]+$/);
      await expect(heading()).toHaveText(user.name);
      await expect(page.getByRole('group', { name: 'Roles' }).getByLabel(user.role, { exact: true })).toBeChecked();
      ids[key] = new URL(page.url()).pathname.split('/').pop();
      if (key === 'clinician') await checkPage(page, 'user');
    }

    await mainNav().getByRole('link', { name: 'Users' }).click();
    const rows = page.locator('table tbody tr');
    await expect(rows).toHaveCount(3);
    await expect(rows.filter({ hasText: CLINICIAN.name })).toContainText('Clinician');
    await expect(rows.filter({ hasText: AUDITOR.name })).toContainText('IG auditor');

    await mainNav().getByRole('link', { name: 'Clinics' }).click();
    await page.getByRole('link', { name: CLINIC }).click();
    await page.getByLabel('Staff member').selectOption({ label: CLINICIAN.name });
    await page.getByRole('button', { name: 'Add to clinic' }).click();
    await expect(heading()).toHaveText(CLINIC);
    await expect(page.locator('table tbody tr').filter({ hasText: CLINICIAN.name })).toHaveCount(1);
    await expect(page.getByRole('button', { name: `Remove ${CLINICIAN.name}` })).toBeVisible();
    await checkPage(page, 'clinic with a member');

    await mainNav().getByRole('link', { name: 'Policy' }).click();
    await expect(heading()).toHaveText('Organisation policy');
    await expect(page.getByLabel('Require two-step sign-in for all staff')).toBeChecked();
    await checkPage(page, 'policy');

    await mainNav().getByRole('link', { name: 'Your account' }).click();
    await expect(heading()).toHaveText('Your account');
    await expect(page.getByText('On (authenticator app)')).toBeVisible();
    await checkPage(page, 'account');

    const missing = await page.goto('/no-such-page');
    expect(missing.status()).toBe(404);
    await expect(heading()).toHaveText('Page not found');
    await checkPage(page, 'not found');

    await page.goto('/');
    await signOut();
  });

  test('the clinician signs in, sets up two-step sign-in, must change the password, and sees the clinic', async () => {
    await signIn(CLINICIAN.email, CLINICIAN.initial);
    await enrolMfa('clinician');
    await changePassword(CLINICIAN, { checks: true });
    const clinics = page.locator('h2:has-text("Your clinics") + ul');
    await expect(clinics).toContainText(CLINIC);
    // A clinician sees no administration or audit.
    await expect(mainNav().getByRole('link', { name: 'Users' })).toHaveCount(0);
    await expect(mainNav().getByRole('link', { name: 'Audit log' })).toHaveCount(0);
    await checkPage(page, 'dashboard (clinician)');
    await signOut();
  });

  test('the IG auditor signs in, finds the sign-ins and user creations in the audit log, filters it, and downloads it as CSV', async () => {
    await signIn(AUDITOR.email, AUDITOR.initial);
    await enrolMfa('auditor');
    await changePassword(AUDITOR);

    await mainNav().getByRole('link', { name: 'Audit log' }).click();
    await expect(heading()).toHaveText('Audit log');
    const rows = page.locator('table tbody tr');
    const row = (who, action, object) => {
      let r = rows.filter({ has: page.locator('td:nth-child(3)', { hasText: who }) });
      r = r.filter({ has: page.locator('td:nth-child(4)', { hasText: new RegExp(`^${action.replace('.', '\\.')}$`) }) });
      return object ? r.filter({ has: page.locator('td:nth-child(5)', { hasText: object }) }) : r;
    };
    await expect(row(CLINICIAN.name, 'staff.sign_in'), "the clinician's sign-in").toHaveCount(1);
    // The viewer names the user an entry is about; the CSV (checked below) keeps the ids.
    await expect(row(ADMIN.name, 'user.create', CLINICIAN.name), "the clinician's creation").toHaveCount(1);
    await expect(row(ADMIN.name, 'user.create', AUDITOR.name), "the auditor's creation").toHaveCount(1);
    await expect(row(ADMIN.name, 'clinic.create')).toHaveCount(1);
    await checkPage(page, 'audit viewer');
    await page.screenshot({ path: path.join(outDir(), 'audit-desktop.png'), fullPage: true });

    await page.getByLabel('Action starts with').fill('staff.sign_in');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page).toHaveURL(/[?&]action=staff\.sign_in(&|$)/);
    await expect(page.getByLabel('Action starts with')).toHaveValue('staff.sign_in');
    const actions = await page.locator('table tbody tr td:nth-child(4)').allInnerTexts();
    expect(actions.length).toBeGreaterThanOrEqual(3);
    for (const a of actions) expect(a).toMatch(/^staff\.sign_in/);
    const who = await page.locator('table tbody tr td:nth-child(3)').allInnerTexts();
    for (const name of [ADMIN.name, CLINICIAN.name, AUDITOR.name]) expect(who).toContain(name);
    await checkPage(page, 'audit viewer (filtered)');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download these entries as CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('haven-audit.csv');
    const csv = await readFile(await download.path(), 'utf8');
    const lines = csv.split('\n').filter((l) => l !== '');
    expect(lines[0]).toBe(CSV_HEADER);
    expect(lines.length - 1).toBe(actions.length);
    for (const line of lines.slice(1)) expect(line.split(',')[4]).toMatch(/^staff\.sign_in/);
    await signOut();
  });

  test('the administrator signs in again with a code from the authenticator app', async () => {
    await signIn(ADMIN.email, ADMIN.password);
    await expect(page).toHaveURL(/\/signin\/mfa$/);
    await expect(heading()).toHaveText('Enter your code');
    await checkPage(page, 'sign-in code');
    await page.getByLabel('Code').fill(await freshStep('admin'));
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page).toHaveURL(`${base()}/`);
    await expect(heading()).toHaveText(`Hello, ${ADMIN.name}`);
    await signOut();
  });

  test('haven audit verify accepts the hash chain the journey wrote', async () => {
    const { stdout } = await promisify(execFile)(
      process.env.HAVEN_E2E_BIN,
      ['audit', 'verify', '--database-url', process.env.HAVEN_E2E_DATABASE_URL],
      { timeout: 30_000 },
    );
    const m = stdout.match(/^ok: (\d+) entries$/m);
    expect(m, `haven audit verify printed:\n${stdout}`).not.toBeNull();
    expect(Number(m[1])).toBeGreaterThan(10);
  });
});

// Not serial: these report what the journey recorded even when a journey step failed.
test.describe('what the journey found', () => {
  const recorded = () => {
    const f = loadFindings();
    expect(f, 'the journey recorded no findings (did it run?)').not.toBeNull();
    return f;
  };

  test('no page has a WCAG 2.0/2.1/2.2 A or AA violation (axe-core)', async () => {
    const f = recorded();
    expect(f.checked.length, `pages checked: ${f.checked.join(', ')}`).toBeGreaterThanOrEqual(22);
    expect(f.axe.length, `axe found violations:\n${formatAxe(f.axe)}\n`).toBe(0);
  });

  test('no page scrolls sideways at phone width (375×667), tables aside', async () => {
    const f = recorded();
    expect(f.checked.length).toBeGreaterThanOrEqual(22);
    expect(f.overflow.length, `pages wider than the phone:\n${formatOverflow(f.overflow)}\n`).toBe(0);
  });

  test('the browser talked to Haven only, loaded every asset, and logged no errors', async () => {
    const f = recorded();
    expect(f.checked.length).toBeGreaterThanOrEqual(22);
    expect(f.offsite, 'requests to anywhere but the Haven server').toEqual([]);
    expect(f.failedAssets, 'assets that failed to load').toEqual([]);
    expect(f.consoleErrors, 'console errors (such as Content-Security-Policy violations)').toEqual([]);
  });
});
