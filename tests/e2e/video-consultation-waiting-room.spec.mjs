// The clinic's waiting room in the browser: the clinician opens it from the home page and
// watches the patient appear on it live (server-sent events, no reload), with how long
// they have waited and whether their page is connected, and admits them from there; then
// the consultation is passed to a second clinician of the clinic: the patient goes back
// to waiting, still connected, and is told; the second clinician finds them on the same
// list and admits them. The waiting room is checked with axe and at 360×640.
//
// Sorts after journey.spec.mjs on purpose (see video-consultation.spec.mjs).
import { expect, test } from './lib/fixtures.mjs';
import { expectMediaFrom, participantId, signInStaff } from './lib/call.mjs';
import { formatAxe, formatOverflow } from './lib/checks.mjs';
import {
  book, checkPage, completeChecklist, enterDetails, invitationLink, newFindings, patientPage, setUpPractice, startCheck, watch,
} from './lib/consultation.mjs';

const SECOND = { name: 'Farah Siddiqui', email: 'farah.siddiqui@larchfield.example.org', initial: 'orbit willow cinder parade', password: 'meadow quartz lantern drift' };
const PRACTICE = {
  org: 'Larchfield Health Centre',
  clinic: 'Diabetes',
  admin: { name: 'Owen Pryce', email: 'owen.pryce@larchfield.example.org', initial: 'harbor velvet tulip ember', password: 'copper fjord salt nimbus' },
  clinician: { name: 'Grace Adeyemi', email: 'grace.adeyemi@larchfield.example.org', initial: 'pebble saffron quill arrow', password: 'violet anchor meadow crisp' },
  colleagues: [SECOND],
};
const PATIENT = { name: 'Peter Holm', dob: ['9', '4', '1961'], email: 'peter.holm@example.org' };

/** From the home page, the clinic's waiting room; waits until its live updates are on. */
async function openWaitingRoom(page) {
  await page.goto('/');
  await page.getByRole('link', { name: 'waiting room' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Waiting room: ${PRACTICE.clinic}`);
  await expect(page.locator('#clinic-waiting')).toHaveAttribute('data-live', 'true');
}

/** The waiting room's entry for the patient. */
function entry(page) {
  return page.locator('#clinic-waiting li').filter({ hasText: PATIENT.name });
}

test.describe('the clinic waiting room and passing a consultation on', () => {
  test.describe.configure({ mode: 'serial' });

  const found = newFindings();
  const errors = [];
  /** @type {import('@playwright/test').Page} the first clinician */
  let first;
  /** @type {import('@playwright/test').Page} */
  let patient;
  let consultation;

  test.afterAll(async () => {
    for (const p of [first, patient]) await p?.context().close();
  });

  test('the clinician sees the patient appear on the clinic waiting room without reloading, and admits them from there', async ({ browser }) => {
    test.setTimeout(120_000);
    first = watch(await setUpPractice(browser, PRACTICE), 'clinician', errors);
    consultation = await book(first, { clinic: PRACTICE.clinic, clinician: PRACTICE.clinician.name, patient: PATIENT });
    const link = await invitationLink(consultation);

    await openWaitingRoom(first);
    await expect(first.locator('#waiting-count')).toHaveText('Nobody is waiting.');
    await checkPage(found, first, 'clinic waiting room (empty)', { phone: true });
    // Marks this page: a reload would lose the mark.
    await first.evaluate(() => { /** @type {any} */ (window).stillHere = true; });

    patient = await patientPage(browser, errors);
    await patient.goto(link);
    await enterDetails(patient, PATIENT);
    await startCheck(patient);

    await expect(entry(first)).toBeVisible({ timeout: 15_000 });
    await expect(first.locator('#waiting-count')).toHaveText('1 person is waiting.');
    await expect(entry(first).locator('.connection')).toHaveText('connected');
    await expect(entry(first).locator('.waited')).toHaveText(/^\d+ min$/);
    await expect(entry(first).locator('.check')).toHaveText(/^(not yet|passed|failed: .+)$/);
    await expect(entry(first)).toContainText(`with ${PRACTICE.clinician.name}`);
    expect(await first.evaluate(() => /** @type {any} */ (window).stillHere)).toBe(true);
    await checkPage(found, first, 'clinic waiting room (someone waiting)', { phone: true });

    await entry(first).getByRole('link', { name: 'Check identity and admit' }).click();
    await completeChecklist(first);
    await first.getByRole('button', { name: 'Join the call' }).click();
    await expect(first.locator('#call')).toHaveAttribute('data-state', 'joined');
    await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'admitted');
    await expectMediaFrom(patient, [await participantId(first)], 'the patient, admitted by the first clinician');
  });

  test('passed to a second clinician of the clinic, the patient waits again, connected and told, and the second clinician admits them', async ({ browser }) => {
    test.setTimeout(120_000);
    const details = watch(await first.context().newPage(), 'clinician', errors);
    await details.goto(`/consultations/${consultation}`);
    await details.getByRole('link', { name: 'Pass to another clinician' }).click();
    await expect(details.getByRole('heading', { level: 1 })).toHaveText('Pass to another clinician');
    await details.getByLabel('Clinician', { exact: true }).selectOption({ label: SECOND.name });
    await details.getByRole('button', { name: 'Pass the consultation on' }).click();
    await expect(details).toHaveURL(new RegExp(`/consultations/${consultation}$`));

    await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'waiting');
    await expect(patient.locator('#call-notice')).toHaveText('Message from the clinic: You are being passed to another clinician; please keep waiting.');
    await expect(patient.locator('#call')).toHaveAttribute('data-state', 'joined');
    await first.getByRole('button', { name: 'Leave the call' }).click();

    const second = watch(await (await browser.newContext()).newPage(), 'second clinician', errors);
    try {
      await signInStaff(second, SECOND);
      await openWaitingRoom(second);
      await expect(entry(second)).toContainText(`with ${SECOND.name}`, { timeout: 15_000 });
      await entry(second).getByRole('link', { name: 'Check identity and admit' }).click();
      await completeChecklist(second);
      await second.getByRole('button', { name: 'Join the call' }).click();
      await expect(second.locator('#call')).toHaveAttribute('data-state', 'joined');
      await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'admitted');
      await expectMediaFrom(patient, [await participantId(second)], 'the patient, admitted by the second clinician');
      await expectMediaFrom(second, [await participantId(patient)], 'the second clinician');
      await second.getByRole('button', { name: 'End consultation for everyone' }).click();
      await expect(patient.getByRole('heading', { name: 'Your consultation has ended. The connection is closed.' })).toBeVisible();
    } finally {
      await second.context().close();
    }
  });

  test('the waiting room has no WCAG 2.0/2.1/2.2 A or AA violation (axe-core), does not scroll sideways at 360×640, and no page logged an error', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(2);
    expect(found.axe.length, `axe found violations:\n${formatAxe(found.axe)}\n`).toBe(0);
    expect(found.overflow.length, `wider than a 360 px phone:\n${formatOverflow(found.overflow)}\n`).toBe(0);
    expect(errors, 'script and console errors').toEqual([]);
  });
});
