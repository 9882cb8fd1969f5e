// Steps of the specs about more people in a call (video-people-*.spec.mjs), done in the
// browser as the people would: a clinician with a patient already in the call invites an
// interpreter from the consultation's page and copies their link; the interpreter gives
// their name, passes the check and waits; the clinician admits them after the checks their
// role calls for.
import { expect } from '@playwright/test';
import {
  book, completeChecklist, enterDetails, invitationLink, joinAsClinician, patientPage, setUpPractice, startCheck, waitingEntry, watch,
} from './consultation.mjs';

/**
 * Sets up a practice, books `patient`, who joins and waits; the clinician joins the call
 * and admits them. Returns the clinician's call page, their consultation page (`details`),
 * the patient's page and the consultation's id.
 */
export async function callWithPatient(browser, practice, patient, errors) {
  const details = watch(await setUpPractice(browser, practice), 'clinician', errors);
  const consultation = await book(details, { clinic: practice.clinic, clinician: practice.clinician.name, patient });
  const link = await invitationLink(consultation);
  const patientTab = await patientPage(browser, errors);
  await patientTab.goto(link);
  await enterDetails(patientTab, patient);
  await startCheck(patientTab);
  const clinician = watch(await details.context().newPage(), 'clinician', errors);
  await joinAsClinician(clinician, consultation);
  const entry = await waitingEntry(details, consultation, patient.name);
  await entry.getByRole('link', { name: 'Check identity and admit' }).click();
  await completeChecklist(details);
  await expect(patientTab.locator('#call')).toHaveAttribute('data-stage', 'admitted');
  return { clinician, details, patient: patientTab, consultation };
}

/**
 * From the consultation's page, invites someone (`role` as its radio reads) with a link to
 * copy; `checks(name)` runs on the form and on the link's page. Returns the link.
 */
export async function inviteByCopiedLink(details, consultation, { role, name }, checks = async () => {}) {
  await details.goto(`/consultations/${consultation}`);
  await details.getByRole('link', { name: 'Invite a carer, interpreter or colleague' }).click();
  await expect(details.getByRole('heading', { level: 1 })).toHaveText('Invite someone to the consultation');
  await checks('invitation form');
  await details.getByRole('radio', { name: role }).check();
  await details.getByLabel('Their full name').fill(name);
  await details.getByRole('radio', { name: 'Show me the link to copy and pass on' }).check();
  await details.getByRole('button', { name: 'Invite' }).click();
  await expect(details.getByRole('heading', { level: 1 })).toHaveText('Their link');
  await checks('their link');
  return details.getByLabel(`Link for ${name}`).inputValue();
}

/**
 * The invited person opens their link on a page of their own, gives their name (they are
 * not asked a date of birth: that is for the patient), passes the check and waits.
 * `checks(name, page)` runs on their landing page.
 */
export async function joinAsHelper(browser, link, name, errors, checks = async () => {}) {
  const page = await patientPage(browser, errors);
  await page.goto(link);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your video appointment');
  await expect(page.getByRole('group', { name: 'Your date of birth' })).toHaveCount(0);
  await checks('helper landing', page);
  await page.getByLabel('Your full name').fill(name);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/join\/[A-Za-z0-9_-]+\/check$/);
  await startCheck(page);
  return page;
}

/**
 * The clinician admits an interpreter from the waiting room after confirming who they are
 * and that they are somewhere private; `checks(name)` runs on the admission page.
 */
export async function admitInterpreter(details, consultation, name, checks = async () => {}) {
  const entry = await waitingEntry(details, consultation, name);
  await entry.getByRole('link', { name: 'Check identity and admit' }).click();
  await expect(details.getByRole('heading', { level: 1 })).toHaveText(`Check and admit ${name}`);
  await expect(details.locator('#name-given')).toHaveText(name);
  await checks('interpreter admission');
  await details.getByLabel(/I have checked who .* is by asking them/).check();
  await details.getByLabel(/is in a private space/).check();
  await details.getByRole('button', { name: 'Admit' }).click();
  await expect(details).toHaveURL(/\/consultations\/[0-9a-f]{32}\/call$/);
}
