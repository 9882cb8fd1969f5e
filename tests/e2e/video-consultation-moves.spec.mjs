// What a clinician does besides admitting, in the browser: a patient who typed a wrong
// date of birth is shown to the clinician as a mismatch (and can still be admitted after
// being asked); hold and resume (media stops both ways, then flows again); back to the
// waiting room and admitted again; and links that no longer work because their
// consultation was cancelled or their day has passed. The patient's pages are checked
// with axe and at 360×640.
//
// Sorts after journey.spec.mjs on purpose (see video-consultation.spec.mjs).
import { expect, test } from './lib/fixtures.mjs';
import { expectMediaFrom, participantId, run } from './lib/call.mjs';
import { formatAxe, formatOverflow } from './lib/checks.mjs';
import {
  admissionRow, book, checkPage, completeChecklist, enterDetails, expectInvitation, expectMediaResumes, expectMediaStops, inboundTotals,
  invitationLink, joinAsClinician, newFindings, patientPage, setUpPractice, startCheck, waitingEntry, watch,
} from './lib/consultation.mjs';

const PRACTICE = {
  org: 'Harbourside Community Health',
  clinic: 'Respiratory',
  admin: { name: 'Nia Okonjo', email: 'nia.okonjo@harbourside.example.org', initial: 'saddle prism juniper cobalt', password: 'lagoon tinsel harvest piano' },
  clinician: { name: 'Tomasz Nowak', email: 'tomasz.nowak@harbourside.example.org', initial: 'ribbon falcon ember quarry', password: 'glacier pepper wander mosaic' },
};
const PATIENT = { name: 'Daniel Price', dob: ['3', '11', '1987'], email: 'daniel.price@example.org' };
/** What the patient typed: the day and month swapped. */
const TYPED = { name: 'daniel  price', dob: ['11', '3', '1987'] };
const CANCELLED = { name: 'Aisha Rahman', dob: ['22', '1', '1979'], email: 'aisha.rahman@example.org' };
const EXPIRED = { name: 'Owen Hughes', dob: ['9', '8', '1990'], email: 'owen.hughes@example.org' };

test.describe('hold, back to the waiting room, a mismatch, and a dead link', () => {
  test.describe.configure({ mode: 'serial' });

  const found = newFindings();
  const errors = [];
  /** @type {import('@playwright/test').Page} the clinician's call */
  let clinician;
  /** @type {import('@playwright/test').Page} the clinician's other tab: the consultation's page */
  let details;
  /** @type {import('@playwright/test').Page} */
  let patient;
  let consultation;

  test.afterAll(async () => {
    for (const p of [clinician, patient]) await p?.context().close();
  });

  /** Both pages receive each other's media; returns each one's totals. */
  async function bothFlow(what) {
    const [doctor, me] = [await participantId(clinician), await participantId(patient)];
    await expectMediaFrom(patient, [doctor], `the patient ${what}`);
    await expectMediaFrom(clinician, [me], `the clinician ${what}`);
    return { patient: await patient.evaluate(inboundTotals), clinician: await clinician.evaluate(inboundTotals) };
  }

  /** From the consultation's page, a button of the patient's row (hold, resume, back to waiting). */
  async function press(name) {
    await details.goto(`/consultations/${consultation}`);
    await details.getByRole('button', { name, exact: true }).click();
    await expect(details).toHaveURL(new RegExp(`/consultations/${consultation}$`));
    await expect(details.getByRole('alert')).toHaveCount(0);
  }

  test('a patient who types a wrong date of birth waits; the clinician sees it does not match, asks them, and admits them', async ({ browser }) => {
    test.setTimeout(120_000);
    details = watch(await setUpPractice(browser, PRACTICE), 'clinician', errors);
    consultation = await book(details, { clinic: PRACTICE.clinic, clinician: PRACTICE.clinician.name, patient: PATIENT });
    const link = await invitationLink(consultation);

    patient = await patientPage(browser, errors);
    await patient.goto(link);
    await enterDetails(patient, TYPED);
    await startCheck(patient);
    clinician = watch(await details.context().newPage(), 'clinician', errors);
    await joinAsClinician(clinician, consultation);

    const entry = await waitingEntry(details, consultation, PATIENT.name);
    await entry.getByRole('link', { name: 'Check identity and admit' }).click();
    await expect(details.getByRole('heading', { level: 1 })).toHaveText('Check identity and admit');
    // The name matches as people write it (case and spacing aside); the date does not.
    expect(await admissionRow(details, 'Name')).toEqual([PATIENT.name, 'daniel price', 'Matches']);
    expect(await admissionRow(details, 'Date of birth')).toEqual(['1987-11-03', '1987-03-11', 'Does not match — ask them']);
    await expect(details.locator('td.match strong')).toHaveText(['Does not match — ask them']);
    await checkPage(found, details, 'admission (date of birth does not match)');
    // A mismatch is for the clinician to ask about: they confirm and admit.
    await completeChecklist(details);
    await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'admitted');
    await bothFlow('once admitted');
  });

  test('on hold, nothing reaches either side and the patient is told; on resume, both see and hear each other again', async () => {
    test.setTimeout(90_000);
    await press(`Put ${PATIENT.name} on hold`);
    await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'held');
    await expect(patient.locator('#call-status')).toHaveText('You are on hold. The clinician will be back with you shortly.');
    await expect(patient.locator('#call-waiting')).toBeHidden();
    await checkPage(found, patient, 'on hold', { phone: true });
    const held = { patient: await expectMediaStops(patient, 'the patient on hold'), clinician: await expectMediaStops(clinician, 'the clinician, patient on hold') };
    // Both pages are still connected, ready to go on.
    await expect(patient.locator('#call')).toHaveAttribute('data-state', 'joined');

    await press('Resume');
    await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'admitted');
    await expectMediaResumes(patient, held.patient, 'the patient after resume');
    await expectMediaResumes(clinician, held.clinician, 'the clinician after resume');
  });

  test('back to the waiting room: the patient waits again, seeing and hearing nothing, until the clinician admits them again', async () => {
    test.setTimeout(120_000);
    const me = await participantId(patient);
    await press('Back to the waiting room');
    await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'waiting');
    await expect(patient.getByRole('heading', { name: 'You are in the waiting room' })).toBeVisible();
    await expect(patient.locator('#call-status')).toHaveText('You are in the waiting room. The clinician will let you in.');
    // As the first time, they see nobody; the clinician's call no longer shows them; and
    // nothing reaches either side.
    await expect(patient.locator('li[data-participant]')).toHaveCount(0);
    await expect(clinician.locator(`li[data-participant="${me}"]`)).toHaveCount(0);
    const waited = { patient: await expectMediaStops(patient, 'the patient back in the waiting room'), clinician: await expectMediaStops(clinician, 'the clinician, patient waiting') };
    await checkPage(found, patient, 'back in the waiting room', { phone: true });

    const entry = await waitingEntry(details, consultation, PATIENT.name);
    await entry.getByRole('link', { name: 'Check identity and admit' }).click();
    // Each admission needs the checklist again.
    for (const label of ['I have confirmed who they are by asking them', 'The right patient record is open']) {
      await expect(details.getByLabel(label)).not.toBeChecked();
    }
    await completeChecklist(details);
    await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'admitted');
    await expect(patient.locator('#call-waiting')).toBeHidden();
    await expect(clinician.locator(`li[data-participant="${me}"]`)).toBeVisible();
    await expectMediaResumes(patient, waited.patient, 'the patient admitted again');
    await expectMediaResumes(clinician, waited.clinician, 'the clinician, patient admitted again');
    await bothFlow('admitted again');

    await clinician.getByRole('button', { name: 'End consultation for everyone' }).click();
    await expect(patient.getByRole('heading', { name: 'Your consultation has ended. The connection is closed.' })).toBeVisible();
  });

  test('a cancelled consultation’s link no longer works: the patient is told what to do', async () => {
    const id = await book(details, { clinic: PRACTICE.clinic, clinician: PRACTICE.clinician.name, patient: CANCELLED });
    await expectInvitation(details, 'Sent', 'Invited');
    const link = await invitationLink(id);
    // The link works until the consultation is cancelled.
    expect((await patient.goto(link)).status()).toBe(200);
    await expect(patient.getByRole('heading', { level: 1 })).toHaveText('Your video appointment');

    await details.getByRole('button', { name: 'Cancel this consultation' }).click();
    await expect(details.locator('#status')).toHaveText('Cancelled');
    await expect(details.getByRole('button', { name: 'Cancel this consultation' })).toHaveCount(0);
    await expect(details.getByRole('button', { name: 'Send the invitation again' })).toHaveCount(0);

    const dead = await patient.goto(link);
    expect(dead.status()).toBe(404);
    await expect(patient.getByRole('heading', { level: 1 })).toHaveText('This link does not work');
    await expect(patient.getByText('the appointment may have been cancelled')).toBeVisible();
    await expect(patient.getByRole('heading', { name: 'What to do' })).toBeVisible();
    await expect(patient.getByText('call 111, or 999 in an emergency')).toBeVisible();
    await checkPage(found, patient, 'link of a cancelled consultation', { phone: true });
    // The pre-call page of that link does not open either.
    expect((await patient.goto(`${link}/check`)).status()).toBe(404);
  });

  test('an expired link no longer works: the patient is told what to do', async () => {
    const id = await book(details, { clinic: PRACTICE.clinic, clinician: PRACTICE.clinician.name, patient: EXPIRED });
    await expectInvitation(details, 'Sent', 'Invited');
    const link = await invitationLink(id);
    expect((await patient.goto(link)).status()).toBe(200);

    // The appointment day passes: the link's expiry, kept in the database, is now behind us.
    const db = new URL(process.env.HAVEN_E2E_DATABASE_URL ?? '').pathname;
    const past = (Date.now() - 60_000) * 1000;
    await run('sqlite3', [db, `UPDATE invite_tokens SET expires_at = ${past} WHERE attendee_id IN (SELECT id FROM attendees WHERE consultation_id = '${id}')`]);

    const dead = await patient.goto(link);
    expect(dead.status()).toBe(404);
    await expect(patient.getByRole('heading', { level: 1 })).toHaveText('This link does not work');
    await expect(patient.getByRole('heading', { name: 'What to do' })).toBeVisible();
    await expect(patient.getByText('It may have expired')).toBeVisible();
    await checkPage(found, patient, 'expired link', { phone: true });
    expect((await patient.goto(`${link}/check`)).status()).toBe(404);
  });

  test('these pages have no WCAG 2.0/2.1/2.2 A or AA violation (axe-core), the patient’s do not scroll sideways at 360×640, and no page logged an error', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(5);
    expect(found.axe.length, `axe found violations:\n${formatAxe(found.axe)}\n`).toBe(0);
    expect(found.overflow.length, `wider than a 360 px phone:\n${formatOverflow(found.overflow)}\n`).toBe(0);
    expect(errors, 'script and console errors').toEqual([]);
  });
});
