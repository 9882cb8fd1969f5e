// A clinician adds an interpreter during a call, in the browser: from the consultation's
// page they invite them with a link to copy; the interpreter gives only their name (the
// date of birth is the patient's check), passes the check and waits, seeing and hearing
// nobody; the clinician confirms who they are and that they are somewhere private, and
// admits them. The interpreter's tile then appears on the clinician's and the patient's
// calls with video both ways (getStats), and the register on the consultation's page shows
// them with their role. Pages are checked with axe, the people's at 360×640.
//
// Sorts after journey.spec.mjs on purpose (see video-consultation.spec.mjs).
import { expect, test } from './lib/fixtures.mjs';
import { expectMediaFrom, participantId } from './lib/call.mjs';
import { formatAxe, formatOverflow } from './lib/checks.mjs';
import { checkPage, expectNothingReceived, newFindings } from './lib/consultation.mjs';
import { admitInterpreter, callWithPatient, inviteByCopiedLink, joinAsHelper } from './lib/people.mjs';

const PRACTICE = {
  org: 'Kingsmead Health Partnership',
  clinic: 'Diabetes',
  admin: { name: 'Leona Marsh', email: 'leona.marsh@kingsmead.example.org', initial: 'copper violet meadow anchor', password: 'thistle bramble lagoon saffron' },
  clinician: { name: 'Farid Haddad', email: 'farid.haddad@kingsmead.example.org', initial: 'harbour quartz ember willow', password: 'pebble juniper walrus cobalt' },
};
const PATIENT = { name: 'Zofia Kowalska', dob: ['5', '9', '1961'], email: 'zofia.kowalska@example.org' };
const INTERPRETER = 'Marek Nowicki';

test.describe('an interpreter added during a call', () => {
  test.describe.configure({ mode: 'serial' });

  const found = newFindings();
  const errors = [];
  let call;
  /** @type {import('@playwright/test').Page} */
  let interpreter;

  test.afterAll(async () => {
    for (const p of [call?.clinician, call?.patient, interpreter]) await p?.context().close();
  });

  test('the clinician invites an interpreter mid-call with a copied link; they give their name and wait, apart from the call', async ({ browser }) => {
    test.setTimeout(150_000);
    call = await callWithPatient(browser, PRACTICE, PATIENT, errors);
    const { details, consultation } = call;
    const link = await inviteByCopiedLink(details, consultation, { role: 'An interpreter', name: INTERPRETER }, async (name) => {
      if (name !== 'invitation form') return checkPage(found, details, name);
      await checkPage(found, details, name);
      // A form sent without choices is refused field by field.
      await details.getByRole('button', { name: 'Invite' }).click();
      await expect(details.getByRole('alert')).toContainText('There is a problem');
      await expect(details.getByRole('alert')).toContainText('Choose who you are inviting');
      await checkPage(found, details, `${name} (field errors)`);
    });
    expect(new URL(link).pathname).toMatch(/^\/join\/[A-Za-z0-9_-]{40,}$/);
    interpreter = await joinAsHelper(browser, link, INTERPRETER, errors, (name, page) => checkPage(found, page, name, { phone: true }));
    await checkPage(found, interpreter, 'interpreter waiting', { phone: true });
    await expectNothingReceived(interpreter, 'the interpreter while waiting');
  });

  test('once admitted after the checks for an interpreter, their tile appears on both sides with video and sound both ways', async () => {
    test.setTimeout(90_000);
    const { clinician, details, patient, consultation } = call;
    await admitInterpreter(details, consultation, INTERPRETER, (name) => checkPage(found, details, name));
    await expect(interpreter.locator('#call')).toHaveAttribute('data-stage', 'admitted');
    const [doctor, me, ines] = [await participantId(clinician), await participantId(patient), await participantId(interpreter)];
    await expect(clinician.locator(`li[data-participant="${ines}"]`)).toBeVisible();
    await expect(patient.locator(`li[data-participant="${ines}"]`)).toBeVisible();
    await expectMediaFrom(clinician, [ines, me], 'the clinician');
    await expectMediaFrom(patient, [ines, doctor], 'the patient');
    await expectMediaFrom(interpreter, [doctor, me], 'the interpreter');
    await checkPage(found, interpreter, 'interpreter in the call', { phone: true });

    await details.goto(`/consultations/${consultation}`);
    const row = details.locator('#register tbody tr').filter({ hasText: INTERPRETER });
    await expect(row).toContainText('Interpreter');
    await expect(row).toContainText('Still in the call');
    await checkPage(found, details, 'consultation with its register');
  });

  test('these pages have no WCAG 2.0/2.1/2.2 A or AA violation (axe-core), the people’s do not scroll sideways at 360×640, and no page logged an error', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(8);
    expect(found.axe.length, `axe found violations:\n${formatAxe(found.axe)}\n`).toBe(0);
    expect(found.overflow.length, `wider than a 360 px phone:\n${formatOverflow(found.overflow)}\n`).toBe(0);
    expect(errors, 'script and console errors').toEqual([]);
  });
});
