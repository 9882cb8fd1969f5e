// A private side-room, in the browser: with a patient and an interpreter in the call, the
// clinician talks with the interpreter alone (a briefing). The patient is held: their page
// says the clinician is speaking with someone privately, and getStats on it shows not one
// new frame or byte of media from either of the private pair for as long as the
// side-room lasts, while the clinician and the interpreter still see and hear each other.
// "Bring everyone back" lets the patient's media flow again and the notice goes.
//
// Sorts after journey.spec.mjs on purpose (see video-consultation.spec.mjs).
import { expect, test } from './lib/fixtures.mjs';
import { expectMediaBeyond, expectMediaFrom, inboundByParticipant, participantId } from './lib/call.mjs';
import { formatAxe, formatOverflow } from './lib/checks.mjs';
import { checkPage, expectMediaResumes, expectMediaStops, newFindings } from './lib/consultation.mjs';
import { admitInterpreter, callWithPatient, inviteByCopiedLink, joinAsHelper } from './lib/people.mjs';

const PRACTICE = {
  org: 'Westgate Family Practice',
  clinic: 'Maternity',
  admin: { name: 'Ruth Adeyemi', email: 'ruth.adeyemi@westgate.example.org', initial: 'maple cobalt drift lantern', password: 'orchid piston meadow glacier' },
  clinician: { name: 'Helen Ward', email: 'helen.ward@westgate.example.org', initial: 'sparrow tinsel ember basalt', password: 'walnut quiver harbour lilac' },
};
const PATIENT = { name: 'Amira Haddad', dob: ['17', '2', '1994'], email: 'amira.haddad@example.org' };
const INTERPRETER = 'Samir Khoury';
const NOTICE = 'The clinician is speaking with someone privately. You will be brought back shortly.';

test.describe('a private side-room', () => {
  test.describe.configure({ mode: 'serial' });

  const found = newFindings();
  const errors = [];
  let call;
  /** @type {import('@playwright/test').Page} */
  let interpreter;
  let ids;

  test.afterAll(async () => {
    for (const p of [call?.clinician, call?.patient, interpreter]) await p?.context().close();
  });

  /** From the consultation's page, one of the clinician's buttons. */
  async function press(name) {
    const { details, consultation } = call;
    await details.goto(`/consultations/${consultation}`);
    await details.getByRole('button', { name, exact: true }).click();
    await expect(details).toHaveURL(new RegExp(`/consultations/${consultation}$`));
  }

  test('a patient and an interpreter are in the call with the clinician', async ({ browser }) => {
    test.setTimeout(150_000);
    call = await callWithPatient(browser, PRACTICE, PATIENT, errors);
    const link = await inviteByCopiedLink(call.details, call.consultation, { role: 'An interpreter', name: INTERPRETER });
    interpreter = await joinAsHelper(browser, link, INTERPRETER, errors);
    await admitInterpreter(call.details, call.consultation, INTERPRETER);
    await expect(interpreter.locator('#call')).toHaveAttribute('data-stage', 'admitted');
    ids = { doctor: await participantId(call.clinician), patient: await participantId(call.patient), interpreter: await participantId(interpreter) };
    await expectMediaFrom(call.patient, [ids.doctor, ids.interpreter], 'the patient');
  });

  test('while the clinician talks privately with the interpreter, the patient is told and receives nothing from either; the private pair still see and hear each other', async () => {
    test.setTimeout(90_000);
    const { clinician, patient } = call;
    await press(`Talk privately with ${INTERPRETER}`);
    await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'held');
    await expect(patient.locator('#call-side-room')).toHaveText(NOTICE);
    await checkPage(found, patient, 'held by a side-room', { phone: true });
    const held = await expectMediaStops(patient, 'the patient during the side-room');
    // Not one new frame or byte from the private pair on the excluded page, over a few
    // seconds of their conversation.
    const before = await patient.evaluate(inboundByParticipant);
    await expectMediaBeyond(clinician, ids.interpreter, (await clinician.evaluate(inboundByParticipant))[ids.interpreter], 'the clinician hears the interpreter');
    await expectMediaBeyond(interpreter, ids.doctor, (await interpreter.evaluate(inboundByParticipant))[ids.doctor], 'the interpreter hears the clinician');
    const after = await patient.evaluate(inboundByParticipant);
    for (const who of [ids.doctor, ids.interpreter]) {
      expect(after[who]?.frames, `frames from ${who} on the patient's page`).toBe(before[who]?.frames);
      expect(after[who]?.audio, `audio packets from ${who} on the patient's page`).toBe(before[who]?.audio);
    }

    await press('Bring everyone back');
    await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'admitted');
    await expect(patient.locator('#call-side-room')).toBeHidden();
    await expectMediaResumes(patient, held, 'the patient after bring-back');
    await expectMediaFrom(patient, [ids.doctor, ids.interpreter], 'the patient after bring-back');
    await checkPage(found, patient, 'back from the side-room', { phone: true });
  });

  test('these pages have no WCAG 2.0/2.1/2.2 A or AA violation (axe-core), do not scroll sideways at 360×640, and no page logged an error', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(2);
    expect(found.axe.length, `axe found violations:\n${formatAxe(found.axe)}\n`).toBe(0);
    expect(found.overflow.length, `wider than a 360 px phone:\n${formatOverflow(found.overflow)}\n`).toBe(0);
    expect(errors, 'script and console errors').toEqual([]);
  });
});
