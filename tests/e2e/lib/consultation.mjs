// Shared steps of the consultation tests (video-consultation*.spec.mjs), done in the
// browser as the people would: an administrator (made with `haven admin`, since the
// first-run setup belongs to journey.spec.mjs) adds a clinic and a clinician; the
// clinician books, watches the waiting room, checks identity and admits; the patient opens
// the link from the console channel (Haven's standard output), confirms who they are,
// passes the check and waits. Also what a page's call says about its media and its
// connections, and the axe and phone-width checks the specs report at the end.
import { expect } from '@playwright/test';
import { run, signInStaff } from './call.mjs';
import { axe, DESKTOP, overflow } from './checks.mjs';
import { stdoutOf } from './server.mjs';

/** A small phone, as the patient's. */
export const PHONE = { width: 360, height: 640 };

/**
 * Makes an organisation with an administrator (`haven admin`), who signs in for the first
 * time and, in the admin pages, adds a clinic and a clinician (and any `colleagues`, more
 * clinicians) and puts them in the clinic; with `smsCode`, they set the identity check to
 * ask for a one-time code by text message. The clinician then signs in (two-step sign-in
 * and the forced password change) in a browser context of their own. Returns the
 * clinician's page.
 * @param {import('@playwright/test').Browser} browser
 * @param {{org: string, clinic: string, admin: object, clinician: object, colleagues?: object[], smsCode?: boolean, policy?: string[]}} practice
 *   `policy`: the labels of policy switches to turn on
 */
export async function setUpPractice(browser, { org, clinic, admin, clinician, colleagues = [], smsCode = false, policy = [] }) {
  const env = { ...process.env, HAVEN_DATABASE_URL: process.env.HAVEN_E2E_DATABASE_URL };
  const bin = process.env.HAVEN_E2E_BIN;
  await run(bin, ['admin', 'org', 'create', '--name', org], { env });
  const add = run(bin, ['admin', 'user', 'add', '--org', org, '--email', admin.email, '--name', admin.name, '--role', 'admin', '--password-stdin'], { env });
  add.child.stdin.end(`${admin.initial}\n`);
  await add;

  const adminContext = await browser.newContext();
  try {
    const page = await adminContext.newPage();
    await signInStaff(page, admin);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Clinics' }).click();
    await page.getByLabel('Clinic name').fill(clinic);
    await page.getByRole('button', { name: 'Add clinic' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(clinic);
    const clinicUrl = page.url();

    for (const person of [clinician, ...colleagues]) {
      await nav.getByRole('link', { name: 'Users' }).click();
      await page.getByLabel('Full name').fill(person.name);
      await page.getByLabel('Work email address').fill(person.email);
      await page.getByRole('group', { name: 'Roles' }).getByLabel('Clinician', { exact: true }).check();
      await page.getByLabel('Initial password').fill(person.initial);
      await page.getByRole('button', { name: 'Add user' }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(person.name);

      await page.goto(clinicUrl);
      await page.getByLabel('Staff member').selectOption({ label: person.name });
      await page.getByRole('button', { name: 'Add to clinic' }).click();
      await expect(page.locator('table tbody tr').filter({ hasText: person.name })).toHaveCount(1);
    }

    if (smsCode || policy.length) {
      await nav.getByRole('link', { name: 'Policy' }).click();
      if (smsCode) await page.getByRole('radio', { name: 'Name, date of birth and a code sent by text message' }).check();
      for (const label of policy) await page.getByLabel(label).check();
      await page.getByRole('button', { name: 'Save policy' }).click();
      if (smsCode) await expect(page.getByRole('radio', { name: 'Name, date of birth and a code sent by text message' })).toBeChecked();
      for (const label of policy) await expect(page.getByLabel(label)).toBeChecked();
    }
  } finally {
    await adminContext.close();
  }

  const page = await (await browser.newContext()).newPage();
  await signInStaff(page, clinician);
  return page;
}

/**
 * When to book, as UK date (YYYY-MM-DD) and time (HH:MM): now. A link lives until the end
 * of its appointment's day, so late in the evening the appointment is early tomorrow
 * instead, lest the link die during the test.
 */
export function appointmentTime() {
  const uk = (ms) =>
    Object.fromEntries(
      new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
        .formatToParts(new Date(ms))
        .map((p) => [p.type, p.value]),
    );
  let t = uk(Date.now());
  if (Number(t.hour) >= 23) t = { ...uk(Date.now() + 2 * 3600_000), hour: '00', minute: '30' };
  return { date: `${t.year}-${t.month}-${t.day}`, time: `${t.hour}:${t.minute}` };
}

/**
 * From the consultations page, books a one-to-one consultation for now in the booking
 * form, with the invitation sent at once by email, or by text message when the patient has
 * a `mobile` (the console channel prints either). `checks(name)` runs on the empty form.
 * Returns the consultation's id; leaves the page on the consultation's page.
 * @param {import('@playwright/test').Page} page
 * @param {{clinic: string, clinician: string, patient: {name: string, dob: string[], email?: string, mobile?: string}}} booking
 */
export async function book(page, { clinic, clinician, patient }, checks = async () => {}) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Consultations' }).click();
  await page.getByRole('link', { name: 'Book a consultation' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Book a consultation');
  await checks('booking form');
  await page.getByLabel('Clinic', { exact: true }).selectOption({ label: clinic });
  await page.getByLabel('Clinician (optional)').selectOption({ label: clinician });
  const { date, time } = appointmentTime();
  await page.getByLabel('Date', { exact: true }).fill(date);
  await page.getByLabel('Time', { exact: true }).fill(time);
  await page.getByRole('radio', { name: 'One to one' }).check();
  await page.getByLabel('Full name').fill(patient.name);
  const dob = page.getByRole('group', { name: /Date of birth/ });
  for (const [i, part] of ['Day', 'Month', 'Year'].entries()) await dob.getByLabel(part).fill(patient.dob[i]);
  if (patient.mobile) {
    await page.getByLabel('UK mobile number').fill(patient.mobile);
    await page.getByRole('radio', { name: 'Text message' }).check();
  } else {
    await page.getByLabel('Email address').fill(patient.email);
    await page.getByRole('radio', { name: 'Email' }).check();
  }
  await expect(page.getByLabel('Send the invitation now')).toBeChecked();
  await page.getByRole('button', { name: 'Book consultation' }).click();
  await expect(page).toHaveURL(/\/consultations\/[0-9a-f]{32}$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('One to one consultation');
  return new URL(page.url()).pathname.split('/').pop();
}

/**
 * The newest invitation link the console channel printed for the patient of consultation
 * `id` (Haven's standard output), waiting for the outbox worker to send it.
 */
export async function invitationLink(id, { timeout = 20_000 } = {}) {
  const pattern = new RegExp(`^Invitation for patient of consultation ${id}: (\\S+)$`);
  let link = null;
  await expect
    .poll(() => {
      const found = stdoutOf().map((l) => l.match(pattern)).filter(Boolean);
      link = found.length ? found[found.length - 1][1] : null;
      return link;
    }, { timeout, message: `an invitation for consultation ${id} on Haven's standard output` })
    .not.toBeNull();
  return link;
}

/**
 * The newest one-time code the console channel printed for the patient of consultation
 * `id`, waiting for the outbox worker to send it.
 */
export async function oneTimeCode(id, { timeout = 20_000 } = {}) {
  const pattern = new RegExp(`^One-time code for patient of consultation ${id}: (\\d{6})$`);
  let code = null;
  await expect
    .poll(() => {
      const found = stdoutOf().map((l) => l.match(pattern)).filter(Boolean);
      code = found.length ? found[found.length - 1][1] : null;
      return code;
    }, { timeout, message: `a one-time code for consultation ${id} on Haven's standard output` })
    .not.toBeNull();
  return code;
}

/**
 * Reloads the consultation's page until its invitation says `sent` and the consultation's
 * status is `status` (the page reads them one after the other, so a page loaded while the
 * worker records the send can show one but not yet the other).
 */
export async function expectInvitation(page, sent, status, { timeout = 20_000 } = {}) {
  await expect
    .poll(async () => {
      await page.reload();
      return [await page.locator('.invite-status').innerText(), await page.locator('#status').innerText()];
    }, { timeout, intervals: [500, 1000] })
    .toEqual([`Invitation: ${sent}`, status]);
}

/**
 * A patient's page on a phone-sized browser context of their own, watched for script
 * errors (into `errors`) and its WebSockets (`socketsOf`).
 */
export async function patientPage(browser, errors) {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  watch(page, 'patient', errors);
  return page;
}

const sockets = new WeakMap();

/**
 * The `/ws` sockets a watched page opened, each as `{ws, received}` (Playwright's WebSocket
 * and the messages it received, parsed).
 * @param {import('@playwright/test').Page} page
 * @returns {{ws: import('@playwright/test').WebSocket, received: any[]}[]}
 */
export function socketsOf(page) {
  return sockets.get(page) ?? [];
}

/**
 * Records a page's script errors and console errors in `errors`, and its `/ws` sockets
 * (`socketsOf`).
 * @param {import('@playwright/test').Page} page
 */
export function watch(page, who, errors) {
  sockets.set(page, []);
  page.on('pageerror', (e) => errors.push(`${who} ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`${who} ${page.url()}: ${m.text()}`);
  });
  page.on('websocket', (ws) => {
    if (!ws.url().endsWith('/ws')) return;
    const entry = { ws, received: [] };
    sockets.get(page).push(entry);
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload === 'string') entry.received.push(JSON.parse(payload));
    });
  });
  return page;
}

/**
 * On the landing page of a link: confirms name and date of birth; lands on the check page,
 * or with `code` on the page asking for the one-time code.
 */
export async function enterDetails(page, { name, dob }, { code = false } = {}) {
  await page.getByLabel('Your full name').fill(name);
  const group = page.getByRole('group', { name: 'Your date of birth' });
  for (const [i, part] of ['Day', 'Month', 'Year'].entries()) await group.getByLabel(part).fill(dob[i]);
  await page.getByRole('button', { name: 'Continue' }).click();
  if (code) {
    await expect(page).toHaveURL(/\/join\/[A-Za-z0-9_-]+\/code$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Enter the code we sent you');
    return;
  }
  await expect(page).toHaveURL(/\/join\/[A-Za-z0-9_-]+\/check$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Check your camera, microphone and connection');
}

/**
 * Presses "Start the check": the camera starts, the connection to the media server is made
 * and checked, and the patient is in the waiting room.
 */
export async function startCheck(page) {
  await page.getByRole('button', { name: 'Start the check' }).click();
  await expect(page.locator('#call')).toHaveAttribute('data-stage', 'waiting', { timeout: 15_000 });
  await expect(page.locator('#call-waiting')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'You are in the waiting room' })).toBeVisible();
  // The check's verdict once the media path is up (on a busy machine the first bandwidth
  // estimate may be low, which the check reports as a slow connection: still a pass).
  await expect(page.locator('#precall-result')).toHaveText(/^Connected over UDP(, about \d+ kbit\/s available\. Your camera, microphone and connection work\.|, but your connection is slow)/, { timeout: 20_000 });
}

/** The `li` of the waiting room that names `name`, reloading the consultation's page until it is there. */
export async function waitingEntry(page, consultation, name, { timeout = 15_000 } = {}) {
  if (!page.url().endsWith(`/consultations/${consultation}`)) await page.goto(`/consultations/${consultation}`);
  const entry = page.locator('#waiting li').filter({ hasText: name });
  await expect
    .poll(async () => {
      if (await entry.count()) return true;
      await page.reload();
      return (await entry.count()) > 0;
    }, { timeout, intervals: [500, 1000], message: `${name} in the waiting room` })
    .toBe(true);
  await expect(entry).toContainText(/waiting \d+ min/);
  return entry;
}

/** Reloads the consultation's page until its status is `status`. */
export async function expectStatus(page, status, { timeout = 10_000 } = {}) {
  await expect
    .poll(async () => {
      const now = await page.locator('#status').innerText();
      if (now !== status) await page.reload();
      return now;
    }, { timeout, intervals: [250, 500] })
    .toBe(status);
}

/** Sends a message to someone waiting, from the consultation's page. */
export async function sendNotice(entry, text) {
  await entry.getByLabel('Message to show them').fill(text);
  await entry.getByRole('button', { name: 'Send message' }).click();
}

/**
 * On the admission page: confirms the checklist, notes where they are, and admits; lands
 * on the clinician's call page.
 */
export async function completeChecklist(page, location = '12 Orchard Row, Riverside, at home alone') {
  for (const label of [
    'I have confirmed who they are by asking them',
    'The right patient record is open',
    'They are in a private space where they can talk freely',
  ]) await page.getByLabel(label).check();
  await page.getByLabel('Where are they now?').fill(location);
  await page.getByRole('button', { name: 'Admit' }).click();
  await expect(page).toHaveURL(/\/consultations\/[0-9a-f]{32}\/call$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Consultation');
}

/** The admission page's row for `what` ("Name", "Date of birth"): [booked, entered, verdict]. */
export async function admissionRow(page, what) {
  const row = page.locator('table tbody tr').filter({ has: page.getByRole('rowheader', { name: what, exact: true }) });
  return row.locator('td').allInnerTexts();
}

/** The clinician opens the consultation's call page and joins the call (as host). */
export async function joinAsClinician(page, consultation) {
  await page.goto(`/consultations/${consultation}/call`);
  await page.getByRole('button', { name: 'Join the call' }).click();
  await expect(page.locator('#call')).toHaveAttribute('data-state', 'joined');
  await expect(page.getByRole('button', { name: 'End consultation for everyone' })).toBeVisible();
}

/**
 * In the page: totals of the media its peer connection receives, over every inbound
 * stream: video frames decoded, and payload bytes of audio and of video (retransmissions
 * aside). Payload, not packets: with bandwidth estimation on, the media server probes with
 * padding (empty packets, or old ones sent again on the retransmission stream) even to
 * someone waiting or on hold, and that is not media. Null when it has no open peer
 * connection.
 */
export function inboundTotals() {
  return import('/assets/call.js').then(async ({ current }) => {
    const pc = current?.pc;
    if (!pc || pc.signalingState === 'closed') return null;
    const out = { frames: 0, audioBytes: 0, videoBytes: 0 };
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const bytes = (s.bytesReceived ?? 0) - (s.retransmittedBytesReceived ?? 0);
      if (s.kind === 'video') {
        out.frames += s.framesDecoded ?? 0;
        out.videoBytes += bytes;
      } else out.audioBytes += bytes;
    });
    return out;
  });
}

/** In the page: its call's state (`current` of call.js) and its peer connection's. */
export function callState() {
  return import('/assets/call.js').then(({ current }) => ({
    closed: current?.closed ?? null,
    connection: current?.pc?.connectionState ?? null,
  }));
}

/** The page's peer connection is connected (media path up), whatever it receives. */
export async function expectConnected(page, what, { timeout = 20_000 } = {}) {
  await expect.poll(async () => (await page.evaluate(callState)).connection, { timeout, message: `${what}: peer connection` }).toBe('connected');
}

/**
 * The page receives no media at all (no video frame, not one byte of audio or video) for
 * `ms`, while its peer connection is up: before admission the media server forwards
 * nothing to it. This watches a condition over time, so it samples.
 */
export async function expectNothingReceived(page, what, ms = 3_000) {
  await expectConnected(page, what);
  const until = Date.now() + ms;
  while (Date.now() < until) {
    expect(await page.evaluate(inboundTotals), `${what} received media`).toEqual({ frames: 0, audioBytes: 0, videoBytes: 0 });
    await page.waitForTimeout(250);
  }
}

/**
 * Waits until media to the page stops: over two seconds not one byte of audio or video
 * arrives and no frame is decoded (on hold, or back in the waiting room). Returns the
 * counters then.
 */
export async function expectMediaStops(page, what, { timeout = 15_000 } = {}) {
  const seen = [];
  let now;
  await expect
    .poll(async () => {
      now = await page.evaluate(inboundTotals);
      if (!now) return `${what}: the call is closed`;
      const at = Date.now();
      seen.push({ at, ...now });
      const old = seen.find((s) => at - s.at >= 2_000 && at - s.at < 4_000);
      if (!old) return `${what}: measuring`;
      if (now.frames > old.frames || now.audioBytes > old.audioBytes || now.videoBytes > old.videoBytes) {
        return `${what}: media still arrives (${JSON.stringify(old)} → ${JSON.stringify(now)} in ${at - old.at} ms)`;
      }
      return 'ok';
    }, { timeout, intervals: [500] })
    .toBe('ok');
  return now;
}

/** Waits until the page's totals pass `after` in video frames and audio: media flows again. */
export async function expectMediaResumes(page, after, what, { timeout = 20_000 } = {}) {
  await expect
    .poll(async () => {
      const now = await page.evaluate(inboundTotals);
      if (!now) return `${what}: the call is closed`;
      return now.frames > after.frames + 10 && now.audioBytes > after.audioBytes + 1000 ? 'ok' : `${what}: ${JSON.stringify(now)}, not yet beyond ${JSON.stringify(after)}`;
    }, { timeout, intervals: [250, 500] })
    .toBe('ok');
}

/**
 * The call is over for the page: its call closed, its peer connection closed, and every
 * WebSocket it opened closed.
 */
export async function expectConnectionsClosed(page, what) {
  await expect.poll(() => page.evaluate(callState), { message: `${what}: call and peer connection` }).toEqual({ closed: true, connection: 'closed' });
  expect(socketsOf(page).length, `${what} opened a WebSocket`).toBeGreaterThan(0);
  await expect
    .poll(() => socketsOf(page).filter((s) => !s.ws.isClosed()).map((s) => s.ws.url()), { message: `${what}: open WebSockets` })
    .toEqual([]);
}

/**
 * Joins with an invitation token on a new WebSocket from the page (so it has the page's
 * origin) and returns the server's first message.
 */
export function joinWithInvite(invite) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${location.host}/ws`);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join', v: 1, invite }));
    ws.onmessage = (e) => {
      resolve(JSON.parse(e.data));
      ws.close();
    };
    ws.onerror = () => reject(new Error('the WebSocket failed'));
  });
}

/** What the checks found in one spec file, reported by its last tests. */
export function newFindings() {
  return { checked: [], axe: [], overflow: [] };
}

/**
 * axe on the page as it is (at its own size), and for a patient's page (`phone`) axe at
 * desktop width too and sideways scrolling at 360×640. The page keeps its size.
 */
export async function checkPage(found, page, name, { phone = false } = {}) {
  found.checked.push(name);
  const before = page.viewportSize();
  const sizes = phone ? [['phone', PHONE], ['desktop', DESKTOP]] : [['desktop', before]];
  try {
    for (const [viewport, size] of sizes) {
      await page.setViewportSize(size);
      const violations = await axe(page);
      if (violations.length) found.axe.push({ page: name, url: page.url(), viewport, violations });
      if (viewport === 'phone') {
        const layout = await overflow(page);
        if (layout.scrollWidth > layout.innerWidth) found.overflow.push({ page: name, url: page.url(), ...layout });
      }
    }
  } finally {
    await page.setViewportSize(before);
  }
}
