// Live calls through Haven's media server, in real Chromium pages with fake cameras: a
// staff member opens a test room and guests join by invitation link; media flows both ways
// (getStats), a third sees the other two, the host ejects one (enforced within a second),
// and with UDP blocked the call still connects over ICE-TCP. At most three pages at once.
//
// The file sorts after journey.spec.mjs on purpose: it adds its own organisation with
// `haven admin`, which must not happen before the journey's first-run setup.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from './lib/fixtures.mjs';
import { msUntilNextStep, stepAt, totp } from './lib/totp.mjs';

const run = promisify(execFile);
const ORG = 'Call Test Practice';
const HOST = {
  name: 'Sam Rivers',
  email: 'sam.rivers@call-test.example.org',
  initial: 'marble ember quartz willow',
  password: 'heron tangerine pocket falls',
};

/** Media counters per remote participant seen by a page: `{p2: {frames, audio}}`, or null once closed. */
function inboundByParticipant() {
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
      out[who] ??= { frames: 0, audio: 0, tracks: [] };
      out[who].tracks.push(s.trackIdentifier);
      if (s.kind === 'video') out[who].frames += s.framesDecoded ?? 0;
      else out[who].audio += s.packetsReceived ?? 0;
    });
    return out;
  });
}

/** Totals of the inbound streams whose track ids are given (the stats survive a closed tile). */
function inboundOfTracks(ids) {
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

/** The selected ICE path's local candidate: protocol and type. */
function selectedPath() {
  return import('/assets/call.js').then(async ({ current }) => {
    const pc = current?.pc;
    if (!pc) return null;
    const stats = new Map();
    (await pc.getStats()).forEach((s) => stats.set(s.id, s));
    const transport = [...stats.values()].find((s) => s.type === 'transport');
    const pair = transport && stats.get(transport.selectedCandidatePairId);
    const local = pair && stats.get(pair.localCandidateId);
    return local ? { protocol: local.protocol, type: local.candidateType, relayProtocol: local.relayProtocol } : null;
  });
}

/** Waits until `page` receives video frames and audio packets, rising, from each of `from`. */
async function expectMediaFrom(page, from, what) {
  let first;
  await expect
    .poll(async () => {
      const now = await page.evaluate(inboundByParticipant);
      if (!now) return 'the call is closed';
      first ??= Object.fromEntries(from.filter((p) => now[p]?.frames > 0 && now[p]?.audio > 0).map((p) => [p, now[p]]));
      const waiting = from.filter((p) => !(first[p] && now[p] && now[p].frames > first[p].frames && now[p].audio > first[p].audio));
      for (const p of from) if (!first[p] && now[p]?.frames > 0 && now[p]?.audio > 0) first[p] = now[p];
      return waiting.length ? `${what} waits for ${waiting.join(', ')}: ${JSON.stringify(now)}` : 'ok';
    }, { timeout: 15_000, intervals: [250, 500] })
    .toBe('ok');
}

async function signInStaff(page) {
  await page.goto('/signin');
  await page.getByLabel('Email address').fill(HOST.email);
  await page.getByLabel('Password').fill(HOST.initial);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  if (page.url().endsWith('/account/mfa')) {
    const secret = (await page.locator('input[name="secret"]').inputValue()).replace(/\s+/g, '');
    await page.getByLabel('Enter the 6-digit code the app shows').fill(totp(secret, stepAt() * 30_000));
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await page.getByRole('link', { name: /I have saved my codes/ }).click();
  }
  if (page.url().endsWith('/account/password')) {
    await page.getByLabel('Current password').fill(HOST.initial);
    await page.getByLabel('New password').fill(HOST.password);
    await page.getByRole('button', { name: 'Change password' }).click();
  }
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Hello, ${HOST.name}`);
}

/** From the home page: opens a (new) test room and joins it; returns the invitation link. */
async function openRoom(page) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Open a test room' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Test room');
  const link = await page.locator('#invite-link').getAttribute('href');
  await joinCall(page);
  return link;
}

/** Another link to the host's room, as the "Invite another person" form gets it. */
async function anotherLink(page) {
  const csrf = await page.locator('form[action="/rooms/test/invite"] input[name="_csrf"]').inputValue();
  const resp = await page.request.post('/rooms/test/invite', { form: { _csrf: csrf } });
  expect(resp.status()).toBe(200);
  return (await resp.text()).match(/href="([^"]*\/r\/[A-Za-z0-9_-]{43})"/)[1];
}

async function joinCall(page) {
  await page.getByRole('button', { name: 'Join the call' }).click();
  await expect(page.locator('#call')).toHaveAttribute('data-state', 'joined');
}

async function guest(browser, link) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('You are invited to a test call');
  await joinCall(page);
  return page;
}

test.describe('live calls through Haven', () => {
  test.describe.configure({ mode: 'serial' });

  /** @type {import('@playwright/test').Page} */
  let host;
  /** @type {import('@playwright/test').Page[]} */
  const guests = [];

  test.beforeAll(async ({ browser }) => {
    const env = { ...process.env, HAVEN_DATABASE_URL: process.env.HAVEN_E2E_DATABASE_URL };
    const bin = process.env.HAVEN_E2E_BIN;
    await run(bin, ['admin', 'org', 'create', '--name', ORG], { env });
    const add = run(bin, ['admin', 'user', 'add', '--org', ORG, '--email', HOST.email, '--name', HOST.name, '--role', 'clinician', '--password-stdin'], { env });
    add.child.stdin.end(`${HOST.initial}\n`);
    await add;
    if (msUntilNextStep() < 3000) await new Promise((r) => setTimeout(r, msUntilNextStep() + 250));
    const context = await browser.newContext();
    host = await context.newPage();
    await signInStaff(host);
  });
  test.afterAll(async () => {
    for (const page of [host, ...guests]) await page?.context().close();
  });

  test('a staff member opens a test room, a guest joins by the link, and both see and hear each other', async ({ browser }) => {
    const link = await openRoom(host);
    guests.push(await guest(browser, link));
    // The host is p1, the first guest p2.
    await expect(host.locator('li[data-participant="p2"]')).toBeVisible();
    await expectMediaFrom(host, ['p2'], 'the host');
    await expectMediaFrom(guests[0], ['p1'], 'the guest');
    await expect(host.locator('#call-quality')).toHaveAttribute('data-quality', /good|fair|poor/, { timeout: 6_000 });
  });

  test('a third person joins and every one sees and hears the other two', async ({ browser }) => {
    guests.push(await guest(browser, await anotherLink(host)));
    await expectMediaFrom(host, ['p2', 'p3'], 'the host');
    await expectMediaFrom(guests[0], ['p1', 'p3'], 'the first guest');
    await expectMediaFrom(guests[1], ['p1', 'p2'], 'the second guest');
  });

  test('the host ejects one; within a second that page says so and its media stops, and nobody receives theirs', async () => {
    const [stays, leaves] = guests;
    const theirs = (await host.evaluate(inboundByParticipant)).p3.tracks;
    const atGuest = (await stays.evaluate(inboundByParticipant)).p3.tracks;
    const started = Date.now();
    await host.getByRole('button', { name: 'Remove Participant 3' }).click();
    await expect(leaves.locator('#call-ended')).toBeVisible({ timeout: 1_000 });
    const took = Date.now() - started;
    await expect(leaves.locator('#call-ended-reason')).toContainText('You were removed from the call');
    await expect(leaves.getByRole('heading', { name: 'The call has ended — the connection is closed' })).toBeFocused();
    expect(took, 'the ejected page showed it within 1 s').toBeLessThan(1_000);
    // The ejected page's peer connection is closed: it receives nothing more.
    expect(await leaves.evaluate(inboundByParticipant)).toBeNull();
    // And the server forwards nothing more from it: after a settling second, the others' counters stand still.
    await host.waitForTimeout(1_000);
    const before = [await host.evaluate(inboundOfTracks, theirs), await stays.evaluate(inboundOfTracks, atGuest)];
    await host.waitForTimeout(1_500);
    const after = [await host.evaluate(inboundOfTracks, theirs), await stays.evaluate(inboundOfTracks, atGuest)];
    expect(after, 'packets from the ejected participant after the eject').toEqual(before);
    await expect(host.locator('li[data-participant="p3"]')).toHaveCount(0);
    // The two who stay still hear and see each other.
    await expectMediaFrom(host, ['p2'], 'the host');
    await leaves.context().close();
    guests.pop();
  });

  test('with UDP blocked, a new call connects over ICE-TCP', async ({ browser }) => {
    await guests.pop()?.context().close();
    await run('iptables', ['-A', 'OUTPUT', '-p', 'udp', '-j', 'DROP']);
    try {
      const link = await openRoom(host);
      const page = await guest(browser, link);
      guests.push(page);
      const id = (p) => p.evaluate(() => document.querySelector('#call')?.dataset.me);
      await expectMediaFrom(page, [await id(host)], 'the guest');
      await expectMediaFrom(host, [await id(page)], 'the host');
      for (const p of [host, page]) expect(await p.evaluate(selectedPath)).toMatchObject({ protocol: 'tcp' });
    } finally {
      await run('iptables', ['-D', 'OUTPUT', '-p', 'udp', '-j', 'DROP']);
    }
  });
});
