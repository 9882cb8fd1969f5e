// The pre-call check's result reaching the journey funnel, in the browser: a patient whose
// check passes is counted as such on the funnel an administrator opens from the
// navigation; a patient whose browser refuses the camera and microphone sees how to allow
// them on their kind of device, and the funnel counts the refusal. The funnel page, the
// governance report and the patient's page with the fix are checked with axe and at
// 360×640, and the funnel's day and the report's month are chosen with the keyboard.
//
// Sorts after journey.spec.mjs on purpose (see video-consultation.spec.mjs).
import { expect, test } from './lib/fixtures.mjs';
import { run, signInStaff } from './lib/call.mjs';
import { formatAxe, formatOverflow } from './lib/checks.mjs';
import {
  appointmentTime, book, checkPage, enterDetails, invitationLink, newFindings, patientPage, setUpPractice, startCheck, watch,
} from './lib/consultation.mjs';

const PRACTICE = {
  org: 'Meadowbank Surgery',
  clinic: 'Dermatology',
  admin: { name: 'Ruth Adeyemi', email: 'ruth.adeyemi@meadowbank.example.org', initial: 'walnut beacon thimble canyon', password: 'orchid ladder pumice violet' },
  clinician: { name: 'Owen Hughes', email: 'owen.hughes@meadowbank.example.org', initial: 'quartz meadow lantern fiddle', password: 'harbour cinder wobble saffron' },
};
/** A second administrator, made with `haven admin`, who reads the funnel. */
const READER = { name: 'Grace Lin', email: 'grace.lin@meadowbank.example.org', initial: 'tundra pickle marble zephyr', password: 'copper ripple anchor meadow' };
const PASSING = { name: 'Leah Morris', dob: ['14', '6', '1990'], email: 'leah.morris@example.org' };
const REFUSING = { name: 'Ivan Petrov', dob: ['2', '9', '1962'], email: 'ivan.petrov@example.org' };

/** Makes the browser refuse the camera and microphone, as after "Block" in its prompt. */
function refuseDevices() {
  navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
}

test.describe('the pre-call check in the journey funnel', () => {
  test.describe.configure({ mode: 'serial' });

  const found = newFindings();
  const errors = [];
  /** @type {import('@playwright/test').Page} */
  let clinician;
  /** @type {import('@playwright/test').Page} */
  let admin;
  let day;

  test.afterAll(async () => {
    for (const p of [clinician, admin]) await p?.context().close();
  });

  /** The funnel's figures for the day of the bookings, as JSON. */
  async function figures() {
    const response = await admin.request.get(`/admin/journey.json?date=${day}`);
    expect(response.status()).toBe(200);
    const body = await response.json();
    return body.clinics.find((c) => c.clinic === PRACTICE.clinic);
  }

  test('a patient passes the check and the administrator sees it counted in the funnel', async ({ browser }) => {
    test.setTimeout(150_000);
    clinician = watch(await setUpPractice(browser, PRACTICE), 'clinician', errors);
    day = appointmentTime().date;
    const consultation = await book(clinician, { clinic: PRACTICE.clinic, clinician: PRACTICE.clinician.name, patient: PASSING });
    const patient = await patientPage(browser, errors);
    await patient.goto(await invitationLink(consultation));
    await enterDetails(patient, PASSING);
    await startCheck(patient);
    await expect(patient.locator('#precall-fixes [id^="fix-"]:visible')).toHaveCount(0);

    const env = { ...process.env, HAVEN_DATABASE_URL: process.env.HAVEN_E2E_DATABASE_URL };
    const add = run(process.env.HAVEN_E2E_BIN, ['admin', 'user', 'add', '--org', PRACTICE.org, '--email', READER.email, '--name', READER.name, '--role', 'admin', '--password-stdin'], { env });
    add.child.stdin.end(`${READER.initial}\n`);
    await add;
    admin = watch(await (await browser.newContext()).newPage(), 'admin', errors);
    await signInStaff(admin, READER);
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Journey funnel' }).click();
    await expect(admin.getByRole('heading', { level: 1 })).toHaveText('Journey funnel');
    // The day, then by keyboard: Enter in the date field shows it.
    await admin.getByLabel('Day (UK time)').fill(day);
    await admin.getByLabel('Day (UK time)').press('Enter');
    await expect(admin).toHaveURL(new RegExp(`/admin/journey\\?date=${day}$`));
    const steps = admin.getByRole('region', { name: PRACTICE.clinic }).getByRole('table', { name: 'How far people got' });
    const passed = steps.getByRole('row', { name: /^Passed the check/ });
    await expect
      .poll(async () => {
        await admin.reload();
        return passed.getByRole('cell').innerText();
      }, { timeout: 20_000, message: 'the passed check on the funnel page' })
      .toBe('1');
    await expect(steps.getByRole('row', { name: /^Invited/ }).getByRole('cell')).toHaveText('1');
    await expect(steps.getByRole('row', { name: /^Entered their details/ }).getByRole('cell')).toHaveText('1');
    await expect(steps.getByRole('row', { name: /^Waited/ }).getByRole('cell')).toHaveText('1');
    await expect(admin.locator('main')).not.toContainText(PASSING.name);
    await checkPage(found, admin, 'journey funnel', { phone: true });
    const counted = await figures();
    expect(counted.reached.check_passed).toBe(1);
    expect(counted.check_failed_by_problem.permission_denied).toBe(0);

    // The governance report, from the same navigation; its month chosen by keyboard.
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Governance' }).click();
    await expect(admin.getByRole('heading', { level: 1 })).toHaveText('Governance report');
    const month = day.slice(0, 7);
    await admin.getByLabel('Month (UK time)').fill(month);
    await admin.getByLabel('Month (UK time)').press('Enter');
    await expect(admin).toHaveURL(new RegExp(`/admin/governance\\?month=${month}$`));
    const identity = admin.getByRole('region', { name: "Verify the patient's identity" });
    await expect(identity).toContainText('Identity checklist confirmed in');
    await expect(admin.getByRole('region', { name: 'Two-step sign-in' })).toContainText('Enforced');
    await expect(admin.locator('main')).not.toContainText(PASSING.name);
    await checkPage(found, admin, 'governance report', { phone: true });
    await patient.context().close();
  });

  test('a patient whose browser refuses the camera sees how to allow it, and the refusal is counted', async ({ browser }) => {
    test.setTimeout(90_000);
    const consultation = await book(clinician, { clinic: PRACTICE.clinic, clinician: PRACTICE.clinician.name, patient: REFUSING });
    const patient = await patientPage(browser, errors);
    await patient.addInitScript(refuseDevices);
    await patient.goto(await invitationLink(consultation));
    await enterDetails(patient, REFUSING);
    await patient.getByRole('button', { name: 'Start the check' }).click();
    const fix = patient.locator('#fix-permission_denied');
    await expect(fix.getByRole('heading', { name: 'Your camera and microphone are blocked' })).toBeVisible();
    // A computer's browser: the computer's instructions only.
    await expect(fix.getByText(/click the camera icon or padlock in the address bar/)).toBeVisible();
    await expect(fix.getByText(/iPhone or iPad/)).toBeHidden();
    await expect(patient.locator('#call-status')).toHaveText(/could not use your camera or microphone/);
    await expect(patient.getByRole('button', { name: 'Start the check' })).toBeEnabled();
    await checkPage(found, patient, 'pre-call check: permission refused', { phone: true });
    await expect.poll(async () => (await figures()).check_failed_by_problem.permission_denied, { timeout: 10_000 }).toBe(1);
    await admin.goto(`/admin/journey?date=${day}`);
    const problems = admin.getByRole('region', { name: PRACTICE.clinic }).getByRole('table', { name: 'Problems the check found' });
    await expect(problems.getByRole('row', { name: /^Camera or microphone not allowed/ }).getByRole('cell')).toHaveText('1');
    await checkPage(found, admin, 'journey funnel with a problem', { phone: true });
    await patient.context().close();
  });

  test('the funnel, the governance report and the check pass axe and fit a 360-pixel phone, with no script errors', () => {
    expect(found.checked.length).toBeGreaterThan(0);
    expect(found.axe, formatAxe(found.axe)).toEqual([]);
    expect(found.overflow, formatOverflow(found.overflow)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
