// The whole video consultation, in the browser, as a patient and a clinician live it: the
// clinician books in the web pages; the invitation goes out on the console channel (read
// from Haven's standard output); the patient opens the link on a phone, confirms who they
// are, passes the check and waits, connected but seeing and hearing nobody, and reads the
// clinic's notice; the clinician sees them waiting, checks identity against the booking,
// completes the checklist and admits them; both see and hear each other (getStats); the
// clinician ends it for everyone: the patient sees the ended page, the link no longer
// works, and both pages' peer connections and WebSockets are closed. Every page on the way
// is checked with axe, and the patient's at 360×640 for sideways scrolling.
//
// Sorts after journey.spec.mjs on purpose: it adds its own organisation with `haven admin`,
// which must not happen before the journey's first-run setup. Two pages with media at once.
import { expect, test } from './lib/fixtures.mjs';
import { expectMediaFrom, participantId } from './lib/call.mjs';
import { formatAxe, formatOverflow } from './lib/checks.mjs';
import {
  admissionRow, book, checkPage, completeChecklist, enterDetails, expectConnectionsClosed, expectInvitation, expectNothingReceived, expectStatus,
  invitationLink, joinAsClinician, joinWithInvite, newFindings, oneTimeCode, patientPage, sendNotice, setUpPractice, socketsOf, startCheck, waitingEntry, watch,
} from './lib/consultation.mjs';

const PRACTICE = {
  org: 'Elmbridge Medical Practice',
  clinic: 'Musculoskeletal',
  admin: { name: 'Rowan Hale', email: 'rowan.hale@elmbridge.example.org', initial: 'tundra marigold ferry lantern', password: 'quiet otter basalt meadow' },
  clinician: { name: 'Imogen Clarke', email: 'imogen.clarke@elmbridge.example.org', initial: 'velvet comet harbour thistle', password: 'amber canyon pillow sparrow' },
};
const PATIENT = { name: 'Margaret Ellis', dob: ['14', '6', '1952'], email: 'margaret.ellis@example.org' };
const NOTICE = 'Running 10 minutes late';

// An organisation whose identity check asks for a one-time code by text message.
const CODE_PRACTICE = {
  org: 'Ashdown Health Centre',
  clinic: 'Dermatology',
  admin: { name: 'Priya Nair', email: 'priya.nair@ashdown.example.org', initial: 'walnut glacier ribbon ember', password: 'saddle orchid beacon drizzle' },
  clinician: { name: 'Tomasz Wolski', email: 'tomasz.wolski@ashdown.example.org', initial: 'pepper island velvet quarry', password: 'marble tundra lilac harbour' },
  smsCode: true,
};
const CODE_PATIENT = { name: 'Harold Finch', dob: ['2', '11', '1948'], mobile: '07700 900456' };

test.describe('a video consultation from booking to the end', () => {
  test.describe.configure({ mode: 'serial' });

  const found = newFindings();
  const errors = [];
  /** @type {import('@playwright/test').Page} the clinician's call */
  let clinician;
  /** @type {import('@playwright/test').Page} the clinician's second tab: the consultation's page */
  let details;
  /** @type {import('@playwright/test').Page} */
  let patient;
  let consultation;
  let link;

  test.afterAll(async () => {
    for (const p of [clinician, patient]) await p?.context().close();
  });

  test('an administrator adds a clinic and a clinician; the clinician books a consultation in the web pages, and the invitation goes out on the console channel', async ({ browser }) => {
    test.setTimeout(90_000);
    details = watch(await setUpPractice(browser, PRACTICE), 'clinician', errors);
    consultation = await book(details, { clinic: PRACTICE.clinic, clinician: PRACTICE.clinician.name, patient: PATIENT }, async (name) => {
      await checkPage(found, details, name);
      // An empty form is refused field by field.
      await details.getByRole('button', { name: 'Book consultation' }).click();
      await expect(details.getByRole('alert')).toContainText('There is a problem');
      await expect(details.getByLabel('Clinic', { exact: true })).toHaveAttribute('aria-invalid', 'true');
      await expect(details.getByRole('alert').getByRole('link')).not.toHaveCount(0);
      await checkPage(found, details, `${name} (field errors)`);
    });
    const summary = details.locator('dl.summary');
    await expect(summary).toContainText(PATIENT.name);
    await expect(summary).toContainText('1952-06-14');
    await expect(summary).toContainText(PRACTICE.clinician.name);
    await expectInvitation(details, 'Sent', 'Invited');
    await expect(details.locator('#waiting-none')).toHaveText('Nobody is waiting.');
    await checkPage(found, details, 'consultation');

    link = await invitationLink(consultation);
    expect(new URL(link).origin).toBe(process.env.HAVEN_E2E_BASE);
    // An opaque token, never a name.
    expect(new URL(link).pathname).toMatch(/^\/join\/[A-Za-z0-9_-]{43}$/);
  });

  test('the patient opens the link on a phone, reads what will happen, and confirms their name and date of birth', async ({ browser }) => {
    patient = await patientPage(browser, errors);
    const opened = await patient.goto(link);
    expect(opened.status()).toBe(200);
    await expect(patient.getByRole('heading', { level: 1 })).toHaveText('Your video appointment');
    await expect(patient.getByText('Hello Margaret.')).toBeVisible();
    await expect(patient.locator('dl.summary')).toContainText(`${PRACTICE.clinician.name}, ${PRACTICE.clinic}, ${PRACTICE.org}`);
    await expect(patient.getByText('By joining, you agree to be seen and heard by the clinician')).toBeVisible();
    await checkPage(found, patient, 'join landing', { phone: true });
    await enterDetails(patient, PATIENT);
    await checkPage(found, patient, 'check (before starting)', { phone: true });
  });

  test('the patient passes the check and waits, connected but receiving nothing, and sees the clinic’s notice; the clinician sees them waiting', async () => {
    test.setTimeout(90_000);
    // The clinician is in the call already, so the media server has someone to forward.
    clinician = watch(await details.context().newPage(), 'clinician', errors);
    await joinAsClinician(clinician, consultation);

    await startCheck(patient);
    await expect(patient.locator('#call-status')).toHaveText('You are in the waiting room. The clinician will let you in.');
    await expect(patient.getByText('The clinician will let you in when they are ready.')).toBeVisible();
    // Nobody else is listed, and nothing reaches either side.
    expect(socketsOf(patient)[0].received.find((m) => m.type === 'welcome').participants).toHaveLength(1);
    await expect(patient.locator('li[data-participant]')).toHaveCount(0);
    await expectNothingReceived(patient, 'the waiting patient');
    await expect(clinician.locator('li[data-participant]')).toHaveCount(0);
    await expectNothingReceived(clinician, 'the clinician, while the patient waits', 1_000);
    await checkPage(found, patient, 'waiting room', { phone: true });

    await waitingEntry(details, consultation, PATIENT.name);
    // Read before the waiting room on the page: a reload may be needed to see it.
    await expectStatus(details, 'Waiting');
    const entry = await waitingEntry(details, consultation, PATIENT.name);
    await expect(entry.getByRole('link', { name: 'Check identity and admit' })).toBeVisible();
    await checkPage(found, details, 'consultation (someone waiting)');
    await sendNotice(entry, NOTICE);
    const notice = patient.locator('#call-notice');
    await expect(notice).toBeVisible({ timeout: 10_000 });
    await expect(notice).toHaveText(`Message from the clinic: ${NOTICE}`);
    await checkPage(found, patient, 'waiting room (with a notice)', { phone: true });
  });

  test('the clinician sees the booking and what the patient entered match, completes the checklist and admits them; both see and hear each other', async () => {
    test.setTimeout(90_000);
    const entry = await waitingEntry(details, consultation, PATIENT.name);
    await entry.getByRole('link', { name: 'Check identity and admit' }).click();
    await expect(details.getByRole('heading', { level: 1 })).toHaveText('Check identity and admit');
    expect(await admissionRow(details, 'Name')).toEqual([PATIENT.name, PATIENT.name, 'Matches']);
    expect(await admissionRow(details, 'Date of birth')).toEqual(['1952-06-14', '1952-06-14', 'Matches']);
    await checkPage(found, details, 'admission');
    // Nobody is admitted without the whole checklist.
    await details.getByRole('button', { name: 'Admit' }).click();
    await expect(details.getByRole('alert')).toContainText('There is a problem');
    for (const label of ['I have confirmed who they are by asking them', 'The right patient record is open', 'They are in a private space where they can talk freely']) {
      await expect(details.getByLabel(label)).not.toBeChecked();
    }
    await expect(details.getByLabel('Where are they now?')).toHaveAttribute('aria-invalid', 'true');
    await checkPage(found, details, 'admission (field errors)');
    await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'waiting');

    await completeChecklist(details);
    // The admission lands on a call page that has not joined: the call is on the other tab.
    await expect(details.getByRole('button', { name: 'Join the call' })).toBeVisible();
    await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'admitted');
    await expect(patient.locator('#call-waiting')).toBeHidden();
    const [doctor, me] = [await participantId(clinician), await participantId(patient)];
    await expect(patient.locator(`li[data-participant="${doctor}"]`)).toContainText('(host)');
    await expect(clinician.locator(`li[data-participant="${me}"]`)).toBeVisible();
    await expectMediaFrom(patient, [doctor], 'the patient');
    await expectMediaFrom(clinician, [me], 'the clinician');
    await checkPage(found, patient, 'in the call (patient)', { phone: true });
    await checkPage(found, clinician, 'in the call (clinician)');
  });

  test('the clinician ends the consultation for everyone: the patient sees that it has ended, both connections are closed, and the link no longer works', async () => {
    test.setTimeout(90_000);
    await clinician.getByRole('button', { name: 'End consultation for everyone' }).click();
    for (const [who, page] of [['patient', patient], ['clinician', clinician]]) {
      const title = page.getByRole('heading', { name: 'Your consultation has ended. The connection is closed.' });
      await expect(title, who).toBeVisible();
      await expect(title, who).toBeFocused();
      await expect(page.locator('#call-ended-reason'), who).toHaveText('Your consultation has ended.');
      await expect(page.locator('#call'), who).toHaveAttribute('data-state', 'ended');
      await expect(page.locator('#call-live'), who).toBeHidden();
      await expect(page.locator('li[data-participant]'), who).toHaveCount(0);
      await expectConnectionsClosed(page, who);
      const ended = socketsOf(page).flatMap((s) => s.received).filter((m) => m.type === 'ended');
      expect(ended, `${who} was told`).toEqual([{ type: 'ended', reason: 'your consultation has ended' }]);
    }
    // The patient's camera and microphone are off.
    expect(await patient.evaluate(() => import('/assets/call.js').then(({ current }) => current.local.getTracks().map((t) => `${t.kind} ${t.readyState}`).sort()))).toEqual(['audio ended', 'video ended']);
    await checkPage(found, patient, 'consultation ended', { phone: true });

    // The consultation is recorded as ended; nobody waits any more.
    await details.goto(`/consultations/${consultation}`);
    await expect(details.locator('#status')).toHaveText('Ended');
    await expect(details.getByRole('heading', { name: 'Waiting room' })).toHaveCount(0);
    // The link opens no page, and the server refuses it on the WebSocket too.
    expect(await patient.evaluate(joinWithInvite, new URL(link).pathname.split('/').pop())).toMatchObject({ type: 'error', code: 'unauthenticated' });
    const again = await patient.goto(link);
    expect(again.status()).toBe(404);
    await expect(patient.getByRole('heading', { level: 1 })).toHaveText('This link does not work');
    await checkPage(found, patient, 'link that no longer works', { phone: true });
  });

  test('the clinician writes the notes by keyboard, finishes them, and downloads the patient’s record as a FHIR bundle', async () => {
    await details.goto(`/consultations/${consultation}`);
    await expect(details.locator('#record-notes')).toContainText('No notes yet.');
    await details.getByRole('link', { name: 'Write the notes' }).focus();
    await details.keyboard.press('Enter');
    await expect(details.getByRole('heading', { level: 1 })).toHaveText('Notes and outcome');
    await details.getByRole('radio', { name: 'Completed by video' }).focus();
    await details.keyboard.press('Space');
    await details.getByLabel('Notes', { exact: true }).focus();
    await details.keyboard.type('Shoulder much better.\nContinue the exercises; review in six weeks.');
    await details.getByRole('button', { name: 'Save draft' }).focus();
    await details.keyboard.press('Enter');
    await expect(details.locator('#notes-status')).toContainText('Draft saved');
    await checkPage(found, details, 'notes (draft)', { phone: true });
    await details.getByRole('button', { name: 'Finish and send to the record' }).focus();
    await details.keyboard.press('Enter');
    await expect(details.locator('#notes-status')).toContainText('Finished and sent to the record');
    await expect(details.locator('#notes-text')).toContainText('review in six weeks');
    await expect(details.getByRole('textbox')).toHaveCount(0);
    await checkPage(found, details, 'notes (finished)', { phone: true });

    await details.goto(`/consultations/${consultation}`);
    await expect(details.locator('#record-notes')).toContainText('The notes are finished');
    await checkPage(found, details, 'consultation with its record', { phone: true });
    const downloading = details.waitForEvent('download');
    await details.getByRole('link', { name: `Download the record for ${PATIENT.name} (FHIR JSON)` }).click();
    const file = await downloading;
    expect(file.suggestedFilename()).toMatch(/^record-[0-9a-f]{32}-[0-9a-f]{32}\.json$/);
    const bundle = JSON.parse(await streamText(await file.createReadStream()));
    expect(bundle.type).toBe('transaction');
    const kinds = bundle.entry.map((e) => e.resource.resourceType);
    expect(kinds).toEqual(expect.arrayContaining(['Patient', 'Encounter', 'Consent', 'Composition']));
    const encounter = bundle.entry.find((e) => e.resource.resourceType === 'Encounter').resource;
    expect(encounter.class.code).toBe('VR');
    expect(JSON.stringify(bundle)).toContain('review in six weeks');
  });

  test('no page of the consultation has a WCAG 2.0/2.1/2.2 A or AA violation (axe-core)', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(17);
    expect(found.axe.length, `axe found violations:\n${formatAxe(found.axe)}\n`).toBe(0);
  });

  test('no page of the patient’s scrolls sideways on a 360×640 phone, and no page logged an error', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(17);
    expect(found.overflow.length, `wider than a 360 px phone:\n${formatOverflow(found.overflow)}\n`).toBe(0);
    expect(errors, 'script and console errors').toEqual([]);
  });
});

test.describe('a video consultation where the organisation asks for a one-time code', () => {
  test.describe.configure({ mode: 'serial' });

  const found = newFindings();
  const errors = [];
  /** @type {import('@playwright/test').Page} */
  let details;
  /** @type {import('@playwright/test').Page} */
  let clinician;
  /** @type {import('@playwright/test').Page} */
  let patient;

  test.afterAll(async () => {
    for (const p of [clinician, patient, details]) await p?.context().close();
  });

  test('the patient types the code sent by text message, waits and is admitted; the clinician sees that the code was passed', async ({ browser }) => {
    test.setTimeout(180_000);
    details = watch(await setUpPractice(browser, CODE_PRACTICE), 'clinician', errors);
    const consultation = await book(details, { clinic: CODE_PRACTICE.clinic, clinician: CODE_PRACTICE.clinician.name, patient: CODE_PATIENT });
    const link = await invitationLink(consultation);

    patient = await patientPage(browser, errors);
    await patient.goto(link);
    await expect(patient.getByText('We then send a code by text message to your mobile phone')).toBeVisible();
    await enterDetails(patient, CODE_PATIENT, { code: true });
    const codeField = patient.getByLabel('Code from the text message');
    await expect(codeField).toHaveAttribute('inputmode', 'numeric');
    await expect(codeField).toHaveAttribute('autocomplete', 'one-time-code');
    await checkPage(found, patient, 'one-time code', { phone: true });
    // The check and the waiting room stay closed until the code is entered.
    await patient.goto(`${link}/check`);
    await expect(patient).toHaveURL(/\/code$/);

    // The code, as the console channel printed the text message; a wrong one first, by keyboard.
    const code = await oneTimeCode(consultation);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await codeField.focus();
    await patient.keyboard.type(wrong);
    await patient.keyboard.press('Enter');
    await expect(patient.getByRole('alert')).toContainText('you have 4 tries left');
    await expect(codeField).toHaveAttribute('aria-invalid', 'true');
    await checkPage(found, patient, 'one-time code (a wrong code)', { phone: true });
    await codeField.fill(code);
    await codeField.press('Enter');
    await expect(patient).toHaveURL(/\/check$/);
    await expect(patient.getByRole('heading', { level: 1 })).toHaveText('Check your camera, microphone and connection');

    clinician = watch(await details.context().newPage(), 'clinician', errors);
    await joinAsClinician(clinician, consultation);
    await startCheck(patient);
    const entry = await waitingEntry(details, consultation, CODE_PATIENT.name);
    await entry.getByRole('link', { name: 'Check identity and admit' }).click();
    expect(await admissionRow(details, 'Name')).toEqual([CODE_PATIENT.name, CODE_PATIENT.name, 'Matches']);
    const [said] = await admissionRow(details, 'One-time code');
    expect(said).toMatch(/^passed at \d\d:\d\d$/);
    await checkPage(found, details, 'admission (code passed)');
    await completeChecklist(details);
    await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'admitted');
  });

  test('the code pages have no WCAG 2.0/2.1/2.2 A or AA violation (axe-core), fit a 360×640 phone, and logged no error', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(3);
    expect(found.axe.length, `axe found violations:\n${formatAxe(found.axe)}\n`).toBe(0);
    expect(found.overflow.length, `wider than a 360 px phone:\n${formatOverflow(found.overflow)}\n`).toBe(0);
    expect(errors, 'script and console errors').toEqual([]);
  });
});

/** The whole of a download's stream, as text. */
async function streamText(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
