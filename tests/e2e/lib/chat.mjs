// Shared steps of the chat specs (video-consultation-chat*.spec.mjs): a practice, a
// booked patient who waits and is admitted, the clinician in the call with them; and
// files in the chat straight over HTTP from inside a page, as a script there could.
import { expect } from '@playwright/test';
import {
  book, completeChecklist, enterDetails, invitationLink, patientPage, setUpPractice, socketsOf, startCheck, waitingEntry, watch,
} from './consultation.mjs';

/**
 * Sets up `practice` (setUpPractice), books `person` with its clinician, and brings both
 * into the call: the patient opens the link, passes the check and waits (`whileWaiting`
 * runs on their page then), the clinician admits them and joins. Both pages are watched
 * for errors (into `errors`).
 * @returns {Promise<{clinician: import('@playwright/test').Page, patient: import('@playwright/test').Page}>}
 */
export async function intoCall(browser, practice, person, errors, whileWaiting = async () => {}) {
  const clinician = watch(await setUpPractice(browser, practice), 'clinician', errors);
  const consultation = await book(clinician, { clinic: practice.clinic, clinician: practice.clinician.name, patient: person });
  const link = await invitationLink(consultation);

  const patient = await patientPage(browser, errors);
  await patient.goto(link);
  await enterDetails(patient, person);
  await startCheck(patient);
  await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'waiting');
  await whileWaiting(patient);

  await clinician.goto(`/consultations/${consultation}`);
  await (await waitingEntry(clinician, consultation, person.name)).getByRole('link', { name: 'Check identity and admit' }).click();
  await completeChecklist(clinician);
  await clinician.getByRole('button', { name: 'Join the call' }).click();
  await expect(clinician.locator('#call')).toHaveAttribute('data-state', 'joined');
  await expect(patient.locator('#call')).toHaveAttribute('data-stage', 'admitted');
  return { clinician, patient };
}

/** The `chat_files` keys the server sent a watched page, oldest first. */
export function fileKeysOf(page) {
  return socketsOf(page).flatMap((s) => s.received).filter((m) => m.type === 'chat_files').map((m) => m.key);
}

/**
 * In the page: `POST /calls/files` with the bytes (`base64`), the name, and the key as
 * `Authorization: Bearer` when there is one. Returns the status and the JSON answer.
 * @param {{key: string | null, name: string, base64: string}} file
 */
export async function postFile({ key, name, base64 }) {
  const headers = { 'X-File-Name': encodeURIComponent(name) };
  if (key) headers.Authorization = `Bearer ${key}`;
  const body = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const res = await fetch('/calls/files', { method: 'POST', headers, body });
  return { status: res.status, body: await res.json().catch(() => null) };
}
