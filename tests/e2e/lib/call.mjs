// Helpers for the live-call tests: a staff member made with `haven admin` and signed in,
// test rooms and invitations, and what a page's RTCPeerConnection says about the media it
// receives (getStats). Functions named `in*`/`selected*` run inside a page (page.evaluate).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from '@playwright/test';
import { msUntilNextStep, stepAt, totp } from './totp.mjs';

export const run = promisify(execFile);

/**
 * Adds an organisation and a clinician to the Haven whose database is `databaseUrl`
 * (default: the one lib/server.mjs started).
 * @param {string} org
 * @param {{name: string, email: string, initial: string}} user
 */
export async function addStaff(org, user, databaseUrl = process.env.HAVEN_E2E_DATABASE_URL) {
  const env = { ...process.env, HAVEN_DATABASE_URL: databaseUrl };
  const bin = process.env.HAVEN_E2E_BIN;
  await run(bin, ['admin', 'org', 'create', '--name', org], { env });
  const add = run(bin, ['admin', 'user', 'add', '--org', org, '--email', user.email, '--name', user.name, '--role', 'clinician', '--password-stdin'], { env });
  add.child.stdin.end(`${user.initial}\n`);
  await add;
}

/**
 * Signs a staff member in for the first time: two-step sign-in enrolment and the forced
 * password change included. Waits for a fresh TOTP step if this one is about to end.
 * @param {import('@playwright/test').Page} page
 * @param {{name: string, email: string, initial: string, password: string}} user
 */
export async function signInStaff(page, user) {
  if (msUntilNextStep() < 3000) await page.waitForTimeout(msUntilNextStep() + 250);
  await page.goto('/signin');
  await page.getByLabel('Email address').fill(user.email);
  await page.getByLabel('Password').fill(user.initial);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  if (page.url().endsWith('/account/mfa')) {
    const secret = (await page.locator('input[name="secret"]').inputValue()).replace(/\s+/g, '');
    await page.getByLabel('Enter the 6-digit code the app shows').fill(totp(secret, stepAt() * 30_000));
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await page.getByRole('link', { name: /I have saved my codes/ }).click();
  }
  if (page.url().endsWith('/account/password')) {
    await page.getByLabel('Current password').fill(user.initial);
    await page.getByLabel('New password').fill(user.password);
    await page.getByRole('button', { name: 'Change password' }).click();
  }
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Hello, ${user.name}`);
}

/** From the home page: opens a (new) test room, without joining; returns the invitation link. */
export async function openRoomPage(page) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Open a test room' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Test room');
  return page.locator('#invite-link').getAttribute('href');
}

/** From the home page: opens a (new) test room and joins it; returns the invitation link. */
export async function openRoom(page) {
  const link = await openRoomPage(page);
  await joinCall(page);
  return link;
}

/** Another link to the host's room, as the "Invite another person" form gets it. */
export async function anotherLink(page) {
  const csrf = await page.locator('form[action="/rooms/test/invite"] input[name="_csrf"]').inputValue();
  const resp = await page.request.post('/rooms/test/invite', { form: { _csrf: csrf } });
  expect(resp.status()).toBe(200);
  return (await resp.text()).match(/href="([^"]*\/r\/[A-Za-z0-9_-]{43})"/)[1];
}

/** Presses "Join the call"; once in the call the button is gone and the controls are there. */
export async function joinCall(page) {
  await page.getByRole('button', { name: 'Join the call' }).click();
  await expect(page.locator('#call')).toHaveAttribute('data-state', 'joined');
  await expect(page.getByRole('button', { name: 'Join the call' })).toBeHidden();
  await expect(page.getByRole('group', { name: 'Call controls' })).toBeVisible();
}

/**
 * A guest's page in a browser context of its own, on the invitation page; joined unless
 * `join` is false. `init` runs in the page before its scripts (e.g. to set localStorage).
 */
export async function guest(browser, link, { join = true, init, viewport } = {}) {
  const context = await browser.newContext(viewport ? { viewport } : {});
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  await page.goto(link);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('You are invited to a test call');
  if (join) await joinCall(page);
  return page;
}

/** Every `welcome` the page receives from now on, parsed (the array fills as they come). */
export function recordWelcomes(page) {
  const seen = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload !== 'string' || !payload.includes('"welcome"')) return;
      const msg = JSON.parse(payload);
      if (msg.type === 'welcome') seen.push(msg);
    }),
  );
  return seen;
}

/** The participant id Haven gave this page (`p1`…). */
export function participantId(page) {
  return page.evaluate(() => document.querySelector('#call')?.dataset.me);
}

/**
 * Media counters per remote participant seen by a page, or null once its call is closed:
 * `{p2: {frames, video, audio, tracks}}` (video frames decoded, video packets received
 * other than retransmissions, audio packets received, and the track ids).
 */
export function inboundByParticipant() {
  return import('/assets/call.js').then(async ({ current }) => {
    const pc = current?.pc;
    if (!pc || pc.signalingState === 'closed') return null;
    const owner = new Map();
    for (const li of document.querySelectorAll('li[data-participant]')) {
      const video = li.querySelector('video');
      const stream = video?.srcObject;
      if (stream instanceof MediaStream) for (const t of stream.getTracks()) owner.set(t.id, li.dataset.participant);
    }
    const out = {};
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const who = owner.get(s.trackIdentifier);
      if (!who) return;
      out[who] ??= { frames: 0, video: 0, audio: 0, tracks: [] };
      out[who].tracks.push(s.trackIdentifier);
      if (s.kind === 'video') {
        out[who].frames += s.framesDecoded ?? 0;
        // Retransmissions aside: with bandwidth estimation on, the media server probes with
        // padding on the retransmission stream, which is not video.
        out[who].video += (s.packetsReceived ?? 0) - (s.retransmittedPacketsReceived ?? 0);
      } else out[who].audio += s.packetsReceived ?? 0;
    });
    return out;
  });
}

/**
 * The video a page receives from one participant: the height of its latest decoded
 * frame and the frames decoded (getStats `inbound-rtp`).
 * @param {string} who
 */
export function videoFrom(who) {
  return import('/assets/call.js').then(async ({ current }) => {
    const stream = document.querySelector(`li[data-participant="${who}"] video`)?.srcObject;
    const track = stream instanceof MediaStream ? stream.getVideoTracks()[0] : undefined;
    let found = null;
    (await current?.pc.getStats())?.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.trackIdentifier === track?.id) {
        found = { height: s.frameHeight ?? 0, frames: s.framesDecoded ?? 0 };
      }
    });
    return found;
  });
}

/**
 * Tells the media server that `page` shows `who` at this size, as its tiles do when they
 * resize: the server picks the simulcast layer by it.
 */
export function showAt(page, who, width, height) {
  return page.evaluate(([w, wi, he]) => import('/assets/call.js').then(({ current }) => current?.signal.view(w, wi, he)), [who, width, height]);
}

/** Totals of the inbound streams whose track ids are given (the stats survive a closed tile). */
export function inboundOfTracks(ids) {
  return import('/assets/call.js').then(async ({ current }) => {
    const pc = current?.pc;
    if (!pc || pc.signalingState === 'closed') return null;
    let packets = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && ids.includes(s.trackIdentifier)) packets += s.packetsReceived ?? 0;
    });
    return packets;
  });
}

/**
 * The selected ICE path (transport → selectedCandidatePairId → candidate-pair →
 * localCandidateId): the local candidate's protocol, type and port, the remote port, the ICE
 * state, and the local ICE username fragment (it changes with every ICE restart).
 */
export function selectedPath() {
  return import('/assets/call.js').then(async ({ current }) => {
    const pc = current?.pc;
    if (!pc) return null;
    const stats = new Map();
    (await pc.getStats()).forEach((s) => stats.set(s.id, s));
    const transport = [...stats.values()].find((s) => s.type === 'transport');
    const pair = transport && stats.get(transport.selectedCandidatePairId);
    const local = pair && stats.get(pair.localCandidateId);
    const remote = pair && stats.get(pair.remoteCandidateId);
    const ufrag = /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? '')?.[1] ?? null;
    if (!local) return null;
    return {
      protocol: local.protocol,
      type: local.candidateType,
      relayProtocol: local.relayProtocol,
      port: local.port,
      remotePort: remote?.port,
      ice: pc.iceConnectionState,
      ufrag,
    };
  });
}

/**
 * Waits until `page` receives video frames and audio packets, rising, from each of `from`.
 * Returns the last counters seen.
 */
export async function expectMediaFrom(page, from, what, { timeout = 15_000 } = {}) {
  let first;
  let now;
  await expect
    .poll(async () => {
      now = await page.evaluate(inboundByParticipant);
      if (!now) return 'the call is closed';
      first ??= Object.fromEntries(from.filter((p) => now[p]?.frames > 0 && now[p]?.audio > 0).map((p) => [p, now[p]]));
      const waiting = from.filter((p) => !(first[p] && now[p] && now[p].frames > first[p].frames && now[p].audio > first[p].audio));
      for (const p of from) if (!first[p] && now[p]?.frames > 0 && now[p]?.audio > 0) first[p] = now[p];
      return waiting.length ? `${what} waits for ${waiting.join(', ')}: ${JSON.stringify(now)}` : 'ok';
    }, { timeout, intervals: [250, 500] })
    .toBe('ok');
  return now;
}

/**
 * Waits until `page`'s counters from `who` pass `after` (both video frames and audio
 * packets): media that resumed, not media from before.
 */
export async function expectMediaBeyond(page, who, after, what, { timeout = 20_000 } = {}) {
  await expect
    .poll(async () => {
      const now = (await page.evaluate(inboundByParticipant))?.[who];
      if (!now) return `${what}: nothing from ${who}`;
      return now.frames > after.frames + 10 && now.audio > after.audio + 10
        ? 'ok'
        : `${what}: from ${who} ${JSON.stringify(now)}, not yet beyond ${JSON.stringify(after)}`;
    }, { timeout, intervals: [250, 500] })
    .toBe('ok');
}

/**
 * Waits until `page` stops receiving video from `who` while its sound keeps coming: over
 * two seconds, no video packet received (so the media server stopped sending, not just the
 * page showing) and no frame decoded, while audio packets kept arriving.
 */
export async function expectVideoStopsAudioGoesOn(page, who, what, { timeout = 15_000 } = {}) {
  const seen = [];
  await expect
    .poll(async () => {
      const now = (await page.evaluate(inboundByParticipant))?.[who];
      if (!now) return `${what}: nothing from ${who}`;
      const at = Date.now();
      seen.push({ at, ...now });
      const old = seen.find((s) => at - s.at >= 2_000 && at - s.at < 4_000);
      if (!old) return `${what}: measuring`;
      if (now.frames > old.frames || now.video > old.video) {
        return `${what}: video from ${who} still arrives (${old.frames} → ${now.frames} frames, ${old.video} → ${now.video} packets in ${at - old.at} ms)`;
      }
      if (now.audio <= old.audio) return `${what}: audio from ${who} stopped too (${old.audio} → ${now.audio} packets)`;
      return 'ok';
    }, { timeout, intervals: [500] })
    .toBe('ok');
}
