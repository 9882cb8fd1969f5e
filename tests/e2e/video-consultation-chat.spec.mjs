// The call's chat in the browser: a clinician and an admitted patient (on a 360 px phone)
// chat by keyboard; a message with a web address reaches the other side as plain text,
// with no link element and with the phishing warning beside it; markup is shown as typed,
// never rendered; the clinician saves the chat to the record and both sides see that it is
// kept. Without the organisation's leave to share files there is no file control and no
// key, and the server refuses a file sent all the same. The chat is checked with axe
// (open, with messages) and for sideways scrolling.
//
// Sorts after journey.spec.mjs on purpose (see video-consultation.spec.mjs).
import { expect, test } from './lib/fixtures.mjs';
import { formatAxe, formatOverflow } from './lib/checks.mjs';
import { checkPage, newFindings } from './lib/consultation.mjs';
import { fileKeysOf, intoCall, postFile } from './lib/chat.mjs';

const PRACTICE = {
  org: 'Brookside Surgery',
  clinic: 'Asthma review',
  admin: { name: 'Ines Marlow', email: 'ines.marlow@brookside.example.org', initial: 'lantern pebble harbour quill', password: 'saffron orbit cedar glide' },
  clinician: { name: 'Tomas Reyes', email: 'tomas.reyes@brookside.example.org', initial: 'violet ember parade crisp', password: 'meadow anchor tulip drift' },
  policy: ['Allow chat to be kept after a consultation'],
};
const PATIENT = { name: 'Amara Lewis', dob: ['3', '11', '1984'], email: 'amara.lewis@example.org' };
const PHISH = 'Please confirm your details at www.nhs-login.example.com/verify <b>now</b>';

test.describe('chat in a consultation', () => {
  test.describe.configure({ mode: 'serial' });

  const found = newFindings();
  const errors = [];
  /** @type {import('@playwright/test').Page} */
  let clinician;
  /** @type {import('@playwright/test').Page} */
  let patient;

  test.afterAll(async () => {
    for (const p of [clinician, patient]) await p?.context().close();
  });

  test('a message with a web address reaches the other side as plain text with a warning, and the clinician keeps the chat', async ({ browser }) => {
    test.setTimeout(150_000);
    // Waiting: no chat at all.
    ({ clinician, patient } = await intoCall(browser, PRACTICE, PATIENT, errors, (waiting) =>
      expect(waiting.getByRole('textbox', { name: 'Message' })).toBeHidden()));

    // The notice is always there; no file control without the policy.
    for (const page of [clinician, patient]) {
      await expect(page.locator('#chat')).toContainText('Everyone in the call sees these messages, including anyone who leaves the call later.');
      await expect(page.locator('#chat-file')).toHaveCount(0);
    }
    await expect(patient.getByRole('button', { name: 'Save this chat to the record' })).toHaveCount(0);
    // Nor a key for files, so the server refuses a file sent from the page all the same.
    for (const page of [clinician, patient]) expect(fileKeysOf(page)).toEqual([]);
    const pdf = Buffer.from('%PDF-1.7\n%%EOF\n').toString('base64');
    for (const key of [null, 'A'.repeat(43)]) {
      expect(await patient.evaluate(postFile, { key, name: 'letter.pdf', base64: pdf })).toEqual({
        status: 401,
        body: { code: 'unauthenticated', message: 'this needs the file key of someone in the call (Authorization: Bearer)' },
      });
    }

    // The clinician types and sends by keyboard: Enter sends.
    const box = clinician.getByRole('textbox', { name: 'Message' });
    await box.focus();
    await clinician.keyboard.type(PHISH);
    await clinician.keyboard.press('Enter');
    await expect(box).toHaveValue('');

    const received = patient.locator('#chat-list li').last();
    await expect(received.locator('.chat-text')).toHaveText(PHISH);
    await expect(received.locator('.chat-meta')).toContainText(PRACTICE.clinician.name);
    await expect(received.locator('.chat-warning')).toContainText('This message contains a web address. Haven never makes it a link.');
    await expect(patient.locator('#chat a')).toHaveCount(0);
    await expect(patient.locator('#chat b')).toHaveCount(0);
    await expect(patient.getByRole('log', { name: 'Chat messages' })).toHaveAttribute('aria-live', 'polite');

    // The patient answers; a plain message has no warning.
    await patient.getByRole('textbox', { name: 'Message' }).fill('I did not ask for a link, thank you');
    await patient.getByRole('button', { name: 'Send' }).click();
    const answer = clinician.locator('#chat-list li').last();
    await expect(answer.locator('.chat-text')).toHaveText('I did not ask for a link, thank you');
    await expect(answer.locator('.chat-meta')).toContainText('Amara');
    await expect(answer.locator('.chat-warning')).toHaveCount(0);

    // An empty message is refused beside the box.
    await box.focus();
    await clinician.keyboard.press('Enter');
    await expect(clinician.locator('#chat-error')).toContainText('the message is empty');

    await clinician.getByRole('button', { name: 'Save this chat to the record' }).click();
    await expect(clinician.locator('#chat-keep-status')).toHaveText(/Saved so far: 2 messages\./);
    await expect(patient.locator('#chat-kept')).toHaveText('The clinician is keeping this chat with the consultation record.');

    await checkPage(found, patient, 'chat (patient)', { phone: true });
    await checkPage(found, clinician, 'chat (clinician)');

    await clinician.getByRole('button', { name: 'End consultation for everyone' }).click();
    await expect(patient.getByRole('heading', { name: 'Your consultation has ended. The connection is closed.' })).toBeVisible();
  });

  test('the chat has no WCAG 2.0/2.1/2.2 A or AA violation (axe-core), does not scroll sideways at 360×640, and no page logged an error', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(2);
    expect(found.axe.length, `axe found violations:\n${formatAxe(found.axe)}\n`).toBe(0);
    expect(found.overflow.length, `wider than a 360 px phone:\n${formatOverflow(found.overflow)}\n`).toBe(0);
    expect(errors, 'script and console errors').toEqual([]);
  });
});
