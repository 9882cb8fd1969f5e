// A group consultation in the browser: a clinician books a group of three in the booking
// form (adding a row by keyboard), each attendee opens their own link, reads and accepts
// the ground rules and passes the check; the host admits all who passed their checks.
// Attendees see each other by first name (or the name they chose) and see each other's
// video; the host sees full names. The booking form, the join page with its ground rules
// and the host's page are checked with axe and at 360×640.
//
// Sorts after journey.spec.mjs on purpose (see video-consultation.spec.mjs).
import { expect, test } from './lib/fixtures.mjs';
import { expectMediaFrom, participantId } from './lib/call.mjs';
import { formatAxe, formatOverflow } from './lib/checks.mjs';
import { checkPage, joinAsClinician, newFindings, patientPage, setUpPractice, startCheck, watch } from './lib/consultation.mjs';
import { stdoutOf } from './lib/server.mjs';

const PRACTICE = {
  org: 'Brookside Maternity',
  clinic: 'Antenatal class',
  admin: { name: 'Iris Bell', email: 'iris.bell@brookside.example.org', initial: 'lantern quiver cobalt meadow', password: 'harbor tulip ember velvet' },
  clinician: { name: 'Maya Okafor', email: 'maya.okafor@brookside.example.org', initial: 'saffron pebble arrow quill', password: 'anchor violet crisp meadow' },
};
const ATTENDEES = [
  { name: 'Aisha Khan', first: 'Aisha', dob: ['3', '2', '1990'], email: 'aisha.khan@example.org' },
  { name: 'Bethany Marsh', first: 'Beth', chosen: 'Beth', dob: ['7', '6', '1988'], email: 'bethany.marsh@example.org' },
  { name: 'Chloe Dunmore', first: 'Chloe', dob: ['12', '11', '1993'], email: 'chloe.dunmore@example.org' },
];
const SURNAMES = ['Khan', 'Marsh', 'Dunmore'];

/** `YYYY-MM-DD` from day, month and year. */
function iso([d, m, y]) {
  return `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
}

/** Every invitation link the console printed for consultation `id`, once there are `count`. */
async function invitationLinks(id, count) {
  const pattern = new RegExp(`^Invitation for patient of consultation ${id}: (\\S+)$`);
  let links = [];
  await expect
    .poll(() => {
      links = [...new Set(stdoutOf().map((l) => l.match(pattern)).filter(Boolean).map((m) => m[1]))];
      return links.length;
    }, { timeout: 20_000, message: `${count} invitations on Haven's standard output` })
    .toBe(count);
  return links;
}

test.describe('a group consultation', () => {
  test.describe.configure({ mode: 'serial' });

  const found = newFindings();
  const errors = [];
  /** @type {import('@playwright/test').Page} */
  let host;
  /** @type {import('@playwright/test').Page} */
  let details;
  /** @type {Map<string, import('@playwright/test').Page>} first name → page */
  const pages = new Map();
  let consultation;

  test.afterAll(async () => {
    for (const p of [host, ...pages.values()]) await p?.context().close();
  });

  test('a clinician books a group of three in the booking form, adding a row by keyboard', async ({ browser }) => {
    test.setTimeout(120_000);
    host = watch(await setUpPractice(browser, PRACTICE), 'host', errors);
    await host.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Consultations' }).click();
    await host.getByRole('link', { name: 'Book a consultation' }).click();
    await host.getByLabel('Clinic', { exact: true }).selectOption({ label: PRACTICE.clinic });
    const tomorrow = new Date(Date.now() + 24 * 3600 * 1000).toISOString().slice(0, 10);
    await host.getByLabel('Date', { exact: true }).fill(tomorrow);
    await host.getByLabel('Time', { exact: true }).fill('10:00');
    await host.getByRole('radio', { name: 'Group' }).check();
    await host.getByRole('button', { name: 'Add attendees to the group' }).focus();
    await host.keyboard.press('Enter');
    await expect(host.getByRole('group', { name: 'Attendee 3', exact: true })).toBeVisible();
    await host.getByRole('button', { name: 'Add another attendee' }).focus();
    await host.keyboard.press('Enter');
    await expect(host.getByRole('group', { name: 'Attendee 4' })).toBeVisible();
    await expect(host.getByRole('radio', { name: 'Group' })).toBeChecked();
    await checkPage(found, host, 'booking form with group rows', { phone: true });
    for (const [i, a] of ATTENDEES.entries()) {
      const row = host.getByRole('group', { name: `Attendee ${i + 1}`, exact: true });
      await row.getByLabel('Full name').fill(a.name);
      await row.getByLabel('Date of birth').fill(iso(a.dob));
      await row.getByLabel('Email address').fill(a.email);
      await row.getByRole('radio', { name: 'Email' }).check();
    }
    await host.getByRole('button', { name: 'Book consultation' }).click();
    await expect(host).toHaveURL(/\/consultations\/[0-9a-f]{32}$/);
    await expect(host.getByRole('heading', { level: 1 })).toHaveText('Group consultation');
    consultation = new URL(host.url()).pathname.split('/').pop();
    await expect(host.locator('#hosts')).toHaveText(PRACTICE.clinician.name);
  });

  test('each attendee accepts the ground rules on their own link and waits; the host admits all who passed', async ({ browser }) => {
    test.setTimeout(180_000);
    for (const link of await invitationLinks(consultation, ATTENDEES.length)) {
      const page = await patientPage(browser, errors);
      await page.goto(link);
      const hello = (await page.getByText(/^Hello /).innerText()).replace(/^Hello |\.$/g, '');
      const a = ATTENDEES.find((x) => x.first === hello || x.name.startsWith(hello));
      expect(a, `the link greets one of the attendees: ${hello}`).toBeTruthy();
      pages.set(a.first, page);
      await expect(page.getByRole('heading', { name: 'Ground rules' })).toBeVisible();
      await page.getByLabel('Your full name').fill(a.name);
      const dob = page.getByRole('group', { name: 'Your date of birth' });
      for (const [i, part] of ['Day', 'Month', 'Year'].entries()) await dob.getByLabel(part).fill(a.dob[i]);
      // Without accepting the ground rules there is no way on.
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect(page.locator('#ground_rules-error')).toContainText('accept the ground rules');
      if (a === ATTENDEES[0]) await checkPage(found, page, 'join page with the ground rules (refused)', { phone: true });
      await page.getByLabel('I accept the ground rules').check();
      if (a.chosen) await page.getByLabel('Name to show to the group (optional)').fill(a.chosen);
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect(page).toHaveURL(/\/join\/[A-Za-z0-9_-]+\/check$/);
      await startCheck(page);
    }

    await joinAsClinician(host, consultation);
    details = watch(await host.context().newPage(), 'host', errors);
    await details.goto(`/consultations/${consultation}`);
    const admitAll = details.getByRole('button', { name: /^Admit all who have passed their checks/ });
    await expect
      .poll(async () => {
        await details.reload();
        return admitAll.innerText();
      }, { timeout: 15_000 })
      .toContain('(3 waiting)');
    await checkPage(found, details, 'group hosts’ page', { phone: true });
    await admitAll.click();
    for (const page of pages.values()) await expect(page.locator('#call')).toHaveAttribute('data-stage', 'admitted', { timeout: 15_000 });
  });

  test('attendees see first names only and each other’s video; the host sees full names', async () => {
    test.setTimeout(120_000);
    const ids = new Map();
    for (const [first, page] of pages) ids.set(first, await participantId(page));
    for (const [first, page] of pages) {
      const others = [...ids].filter(([f]) => f !== first).map(([, id]) => id);
      await expectMediaFrom(page, others, `${first}, from the other attendees`);
      const tiles = page.locator('#call .tile-name');
      for (const other of pages.keys()) if (other !== first) await expect(tiles.filter({ hasText: other })).toHaveCount(1);
      await expect(tiles.filter({ hasText: `${PRACTICE.clinician.name} (host)` })).toHaveCount(1);
      const text = await page.locator('body').innerText();
      for (const surname of SURNAMES) expect(text, `${first}'s page`).not.toContain(surname);
    }
    const tiles = host.locator('#call .tile-name');
    for (const a of ATTENDEES) await expect(tiles.filter({ hasText: a.name })).toHaveCount(1);
    await host.getByRole('button', { name: 'End consultation for everyone' }).click();
    for (const page of pages.values()) await expect(page.getByRole('heading', { name: 'Your consultation has ended. The connection is closed.' })).toBeVisible();
  });

  test('the group pages have no WCAG 2.0/2.1/2.2 A or AA violation (axe-core), do not scroll sideways at 360×640, and no page logged an error', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(3);
    expect(found.axe.length, `axe found violations:\n${formatAxe(found.axe)}\n`).toBe(0);
    expect(found.overflow.length, `wider than a 360 px phone:\n${formatOverflow(found.overflow)}\n`).toBe(0);
    expect(errors, 'script and console errors').toEqual([]);
  });
});
