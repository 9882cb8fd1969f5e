// A colleague meeting in the browser, as two staff members live it: the host (a clinician)
// books it in the web pages and names a colleague from the organisation's staff; the
// colleague finds it on their home page, on a phone, joins signed in (no link, no identity
// check) and waits, connected but receiving nothing; the host sees them waiting and admits
// them with a plain "Admit"; both see and hear each other; the host ends it for everyone
// and both pages' connections close. Every page on the way is checked with axe, and the
// colleague's at 360×640 for sideways scrolling.
//
// Sorts after journey.spec.mjs on purpose: it adds its own organisation with `haven admin`,
// which must not happen before the journey's first-run setup. Two pages with media at once.
import { expect, test } from './lib/fixtures.mjs';
import { expectMediaFrom, participantId, run, signInStaff } from './lib/call.mjs';
import { formatAxe, formatOverflow } from './lib/checks.mjs';
import {
  appointmentTime, checkPage, expectConnectionsClosed, expectNothingReceived, joinAsClinician, newFindings, PHONE, setUpPractice, socketsOf, waitingEntry, watch,
} from './lib/consultation.mjs';

const PRACTICE = {
  org: 'Ashford Community Health',
  clinic: 'Diabetes team',
  admin: { name: 'Priya Shah', email: 'priya.shah@ashford.example.org', initial: 'saffron harbour violin glacier', password: 'copper meadow lantern osprey' },
  clinician: { name: 'Tom Reid', email: 'tom.reid@ashford.example.org', initial: 'pebble orchard canyon whistle', password: 'marble tundra ferry sparrow' },
};
const COLLEAGUE = { name: 'Nia Evans', email: 'nia.evans@ashford.example.org', initial: 'thistle beacon quarry lagoon', password: 'willow comet basalt harbour' };

test.describe('a colleague meeting: the colleague waits until the host admits them', () => {
  test.describe.configure({ mode: 'serial' });

  const found = newFindings();
  const errors = [];
  /** @type {import('@playwright/test').Page} the host's consultation page */
  let details;
  /** @type {import('@playwright/test').Page} the host's call */
  let host;
  /** @type {import('@playwright/test').Page} */
  let colleague;
  let meeting;

  test.afterAll(async () => {
    for (const p of [details, colleague]) await p?.context().close();
  });

  test('the host books a colleague meeting naming a colleague, who finds it on their home page', async ({ browser }) => {
    test.setTimeout(120_000);
    details = watch(await setUpPractice(browser, PRACTICE), 'host', errors);
    const env = { ...process.env, HAVEN_DATABASE_URL: process.env.HAVEN_E2E_DATABASE_URL };
    const add = run(process.env.HAVEN_E2E_BIN, ['admin', 'user', 'add', '--org', PRACTICE.org, '--email', COLLEAGUE.email, '--name', COLLEAGUE.name, '--role', 'clinician', '--password-stdin'], { env });
    add.child.stdin.end(`${COLLEAGUE.initial}\n`);
    await add;

    await details.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Consultations' }).click();
    await details.getByRole('link', { name: 'Book a consultation' }).click();
    await details.getByLabel('Clinic', { exact: true }).selectOption({ label: PRACTICE.clinic });
    const { date, time } = appointmentTime();
    await details.getByLabel('Date', { exact: true }).fill(date);
    await details.getByLabel('Time', { exact: true }).fill(time);
    await details.getByRole('radio', { name: 'Colleague meeting (no patient)' }).check();
    const colleagues = details.getByRole('group', { name: /Colleagues attending/ });
    await colleagues.getByLabel(COLLEAGUE.name, { exact: true }).check();
    await checkPage(found, details, 'booking form (colleague meeting)');
    await details.getByRole('button', { name: 'Book consultation' }).click();
    await expect(details).toHaveURL(/\/consultations\/[0-9a-f]{32}$/);
    meeting = new URL(details.url()).pathname.split('/').pop();
    await expect(details.locator('dl.summary')).toContainText(PRACTICE.clinician.name);
    await expect(details.getByRole('heading', { name: `${COLLEAGUE.name} (colleague)` })).toBeVisible();
    await expect(details.getByText('Joins signed in to Haven: no invitation is sent.')).toBeVisible();
    await checkPage(found, details, 'meeting (host)');

    const context = await browser.newContext({ viewport: PHONE });
    colleague = watch(await context.newPage(), 'colleague', errors);
    await signInStaff(colleague, COLLEAGUE);
    const list = colleague.locator('#meetings');
    await expect(list.getByRole('link')).toHaveCount(1);
    await checkPage(found, colleague, 'home with a meeting', { phone: true });
    await list.getByRole('link').click();
    await expect(colleague).toHaveURL(new RegExp(`/meetings/${meeting}$`));
    await expect(colleague.getByRole('heading', { level: 1 })).toHaveText('Colleague meeting');
    await expect(colleague.locator('dl.summary')).toContainText(PRACTICE.clinician.name);
    await checkPage(found, colleague, 'meeting (colleague)', { phone: true });
  });

  test('the colleague joins and waits, connected but receiving nothing; the host sees them waiting and admits them; both see and hear each other', async () => {
    test.setTimeout(120_000);
    host = watch(await details.context().newPage(), 'host', errors);
    await joinAsClinician(host, meeting);

    await colleague.getByRole('button', { name: 'Join the call' }).click();
    await expect(colleague.locator('#call')).toHaveAttribute('data-stage', 'waiting', { timeout: 15_000 });
    await expect(colleague.getByRole('heading', { name: 'You are in the waiting room' })).toBeVisible();
    expect(socketsOf(colleague)[0].received.find((m) => m.type === 'welcome').participants).toHaveLength(1);
    await expectNothingReceived(colleague, 'the waiting colleague');
    await expect(host.locator('li[data-participant]')).toHaveCount(0);
    await checkPage(found, colleague, 'waiting (colleague)', { phone: true });

    const entry = await waitingEntry(details, meeting, COLLEAGUE.name);
    // Staff signed in as themselves: no identity checklist.
    await expect(entry.getByRole('link', { name: 'Check identity and admit' })).toHaveCount(0);
    await checkPage(found, details, 'meeting (colleague waiting)');
    await entry.getByRole('button', { name: `Admit ${COLLEAGUE.name}` }).click();
    await expect(details).toHaveURL(new RegExp(`/consultations/${meeting}$`));

    await expect(colleague.locator('#call')).toHaveAttribute('data-stage', 'admitted');
    await expect(colleague.locator('#call-waiting')).toBeHidden();
    const [hostId, me] = [await participantId(host), await participantId(colleague)];
    await expect(colleague.locator(`li[data-participant="${hostId}"]`)).toContainText('(host)');
    await expect(host.locator(`li[data-participant="${me}"]`)).toBeVisible();
    await expectMediaFrom(colleague, [hostId], 'the colleague');
    await expectMediaFrom(host, [me], 'the host');
    await checkPage(found, colleague, 'in the meeting (colleague)', { phone: true });
    await checkPage(found, host, 'in the meeting (host)');
  });

  test('the host ends the meeting for everyone: both pages say so and their connections close', async () => {
    test.setTimeout(90_000);
    await host.getByRole('button', { name: 'End consultation for everyone' }).click();
    for (const [who, page] of [['colleague', colleague], ['host', host]]) {
      const title = page.getByRole('heading', { name: 'Your consultation has ended. The connection is closed.' });
      await expect(title, who).toBeVisible();
      await expect(page.locator('#call'), who).toHaveAttribute('data-state', 'ended');
      await expectConnectionsClosed(page, who);
    }
    await details.goto(`/consultations/${meeting}`);
    await expect(details.locator('#status')).toHaveText('Ended');
    await colleague.goto(`/meetings/${meeting}`);
    await expect(colleague.getByText('This meeting is over.')).toBeVisible();
  });

  test('no page of the meeting has a WCAG 2.0/2.1/2.2 A or AA violation, none scrolls sideways on a 360×640 phone, and none logged an error', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(8);
    expect(found.axe.length, `axe found violations:\n${formatAxe(found.axe)}\n`).toBe(0);
    expect(found.overflow.length, `wider than a 360 px phone:\n${formatOverflow(found.overflow)}\n`).toBe(0);
    expect(errors, 'script and console errors').toEqual([]);
  });
});
