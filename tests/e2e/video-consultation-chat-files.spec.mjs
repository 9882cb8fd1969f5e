// Files in the call's chat, where the organisation's policy allows them: the clinician and
// an admitted patient (on a 360 px phone) both get the file control; sharing with no file
// picked says so; the patient picks a picture and shares it; both see it listed by name;
// the clinician downloads it and gets exactly the bytes sent. A file that is not a PDF,
// PNG or JPEG is refused beside the box and reaches nobody. Once the consultation ends,
// the key the patient held opens nothing. (Without the policy there is no control and no
// key: video-consultation-chat.spec.mjs.) The chat with a shared file is checked with axe
// and for sideways scrolling.
//
// Sorts after journey.spec.mjs on purpose (see video-consultation.spec.mjs).
import { expect, test } from './lib/fixtures.mjs';
import { formatAxe, formatOverflow } from './lib/checks.mjs';
import { checkPage, newFindings } from './lib/consultation.mjs';
import { fileKeysOf, intoCall, postFile } from './lib/chat.mjs';

const PRACTICE = {
  org: 'Millbrook Health Centre',
  clinic: 'Skin clinic',
  admin: { name: 'Priya Landon', email: 'priya.landon@millbrook.example.org', initial: 'copper willow garnet fable', password: 'harbour violet spruce tide' },
  clinician: { name: 'Owen Castell', email: 'owen.castell@millbrook.example.org', initial: 'amber lattice comet brook', password: 'thistle maple quartz dune' },
  policy: ['Allow file sharing in calls'],
};
const PATIENT = { name: 'Grace Mbeki', dob: ['17', '6', '1979'], email: 'grace.mbeki@example.org' };
/** A 1×1 PNG: what a phone's photo of a rash would be, only smaller. */
const PICTURE = {
  name: 'rash on left arm.png',
  mimeType: 'image/png',
  buffer: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'),
};
/** A page of script saved as text: neither a PDF nor a picture, whatever its name says. */
const SCRIPT = { name: 'results.pdf', mimeType: 'application/pdf', buffer: Buffer.from('<html><script>alert(1)</script></html>') };

test.describe('files in the chat', () => {
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

  test('the patient shares a picture, both see it by name, and the clinician downloads exactly the bytes sent', async ({ browser }) => {
    test.setTimeout(150_000);
    // Waiting: no chat, so no file control and no key yet.
    ({ clinician, patient } = await intoCall(browser, PRACTICE, PATIENT, errors, async (waiting) => {
      await expect(waiting.getByLabel('Share a file')).toBeHidden();
      expect(fileKeysOf(waiting), 'keys before admission').toEqual([]);
    }));

    for (const page of [clinician, patient]) {
      await expect(page.getByLabel('Share a file')).toBeVisible();
      await expect(page.getByRole('button', { name: 'Share the file' })).toBeVisible();
    }

    // Sharing before picking a file says so.
    await patient.getByRole('button', { name: 'Share the file' }).click();
    await expect(patient.locator('#chat-error')).toHaveText('Not shared: choose a file first.');

    // The patient picks the picture and shares it.
    await patient.getByLabel('Share a file').setInputFiles(PICTURE);
    await patient.getByRole('button', { name: 'Share the file' }).click();
    for (const page of [patient, clinician]) {
      const item = page.locator('#chat-list li').last();
      await expect(item.locator('.chat-text')).toHaveText(`Shared a file: ${PICTURE.name}`);
      await expect(item.locator('.chat-meta')).toContainText('Grace');
      await expect(item.getByRole('button', { name: `Download ${PICTURE.name} (1 KB)` })).toBeVisible();
    }
    await expect(patient.getByLabel('Share a file')).toHaveValue('');
    await expect(patient.locator('#chat-error')).toBeHidden();

    // The clinician downloads it: the same name and the same bytes.
    const downloading = clinician.waitForEvent('download');
    await clinician.locator('#chat-list li').last().getByRole('button', { name: `Download ${PICTURE.name}` }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe(PICTURE.name);
    const chunks = [];
    for await (const chunk of await download.createReadStream()) chunks.push(chunk);
    expect(Buffer.concat(chunks).equals(PICTURE.buffer), 'the downloaded bytes are the ones shared').toBe(true);

    // Script named as a PDF is refused beside the box, and nobody gets a message for it.
    const before = await clinician.locator('#chat-list li').count();
    await patient.getByLabel('Share a file').setInputFiles(SCRIPT);
    await patient.getByRole('button', { name: 'Share the file' }).click();
    await expect(patient.locator('#chat-error')).toHaveText('Not shared: only PDF documents and PNG or JPEG pictures can be shared; this file is none of them.');
    await expect(patient.locator('#chat-error')).toBeVisible();
    await expect(patient.locator('#chat-list li')).toHaveCount(before);
    await expect(clinician.locator('#chat-list li')).toHaveCount(before);

    await checkPage(found, patient, 'chat with a file (patient)', { phone: true });
    await checkPage(found, clinician, 'chat with a file (clinician)');

    const key = fileKeysOf(patient).at(-1);
    expect(key, 'the patient was given a key for files').toMatch(/^[A-Za-z0-9_-]{43}$/);
    await clinician.getByRole('button', { name: 'End consultation for everyone' }).click();
    await expect(patient.getByRole('heading', { name: 'Your consultation has ended. The connection is closed.' })).toBeVisible();
    // The call's files went with it: the key the patient kept opens nothing.
    await expect
      .poll(async () => (await patient.evaluate(postFile, { key, name: 'again.png', base64: PICTURE.buffer.toString('base64') })).status)
      .toBe(401);
  });

  test('the chat with a file has no WCAG 2.0/2.1/2.2 A or AA violation (axe-core), does not scroll sideways at 360×640, and no page logged an error', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(2);
    expect(found.axe.length, `axe found violations:\n${formatAxe(found.axe)}\n`).toBe(0);
    expect(found.overflow.length, `wider than a 360 px phone:\n${formatOverflow(found.overflow)}\n`).toBe(0);
    expect(errors, 'script and console errors').toEqual([]);
  });
});
