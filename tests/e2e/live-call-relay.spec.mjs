// A call through a real TURN relay: coturn (Debian's package, started by this file on
// loopback with a shared secret) and a Haven of this file's own, started with --turn-url
// and --turn-secret. Both pages allow only relay candidates (the client's
// `haven-ice-policy` switch), so media can only flow through coturn.
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect, test } from './lib/fixtures.mjs';
import { addStaff, expectMediaFrom, guest, openRoom, participantId, recordWelcomes, selectedPath, signInStaff } from './lib/call.mjs';
import { startHaven } from './lib/server.mjs';
import { startTurn } from './lib/turn.mjs';

const ORG = 'Relay Test Practice';
const HOST = {
  name: 'Jo Turner',
  email: 'jo.turner@relay-test.example.org',
  initial: 'lichen oyster mantle drizzle',
  password: 'pylon marigold ferry saddle',
};
/** Makes the client use iceTransportPolicy "relay" (web/call-ui.js). */
const relayOnly = () => localStorage.setItem('haven-ice-policy', 'relay');
/** Haven's TURN credentials are valid for 12 hours (crates/haven-server, TURN_TTL). */
const TURN_TTL_S = 12 * 3600;

/** The page's ICE policy, and every local candidate type it gathered. */
function iceSetup() {
  return import('/assets/call.js').then(async ({ current }) => {
    const pc = current?.pc;
    if (!pc) return null;
    const types = new Set();
    (await pc.getStats()).forEach((s) => s.type === 'local-candidate' && types.add(s.candidateType));
    return { policy: pc.getConfiguration().iceTransportPolicy, localTypes: [...types].sort() };
  });
}

test.describe('a call through coturn', () => {
  test.describe.configure({ mode: 'serial' });

  let turn;
  let haven;
  /** @type {import('@playwright/test').Page[]} */
  const pages = [];

  test.beforeAll(async () => {
    turn = await startTurn();
    haven = await startHaven({ name: 'server-turn', args: ['--turn-url', turn.url, '--turn-secret', turn.secret] });
    await addStaff(ORG, HOST, haven.databaseUrl);
  });
  test.afterAll(async () => {
    for (const page of pages) await page.context().close();
    await haven?.stop();
    await turn?.stop();
  });

  test('with only relay candidates allowed, host and guest connect through coturn and see and hear each other', async ({ browser }) => {
    const context = await browser.newContext({ baseURL: haven.base });
    await context.addInitScript(relayOnly);
    const host = await context.newPage();
    pages.push(host);
    const hostWelcomes = recordWelcomes(host);
    await signInStaff(host, HOST);
    const link = await openRoom(host);
    expect(new URL(link).origin).toBe(haven.base);
    const page = await guest(browser, link, { init: relayOnly });
    pages.push(page);

    await expectMediaFrom(page, [await participantId(host)], 'the guest', { timeout: 20_000 });
    await expectMediaFrom(host, [await participantId(page)], 'the host', { timeout: 20_000 });
    for (const [who, p] of [['host', host], ['guest', page]]) {
      expect(await p.evaluate(iceSetup), `${who}: ICE policy and gathered candidates`).toEqual({ policy: 'relay', localTypes: ['relay'] });
      expect(await p.evaluate(selectedPath), `${who}: the selected path`).toMatchObject({ type: 'relay', protocol: 'udp' });
    }
    await expect(host.locator('#call-quality')).toHaveAttribute('data-transport', 'udp relay', { timeout: 6_000 });

    // Haven handed out time-limited credentials in coturn's REST scheme (12 hours from now),
    // which coturn checks against the shared secret: the relay worked, so they were accepted.
    expect(hostWelcomes.length).toBe(1);
    const [server] = hostWelcomes[0].ice_servers;
    expect(server.urls).toEqual([turn.url]);
    const m = /^(\d+):haven-\d+-p1$/.exec(server.username);
    expect(m, `username ${server.username}`).not.toBeNull();
    const now = Date.now() / 1000;
    expect(Number(m[1])).toBeGreaterThan(now + TURN_TTL_S - 120);
    expect(Number(m[1])).toBeLessThanOrEqual(now + TURN_TTL_S + 5);
    expect(server.credential).toBe(createHmac('sha1', turn.secret).update(server.username).digest('base64'));
    // coturn's own log: it allocated relays for both participants with those usernames.
    const guestUser = (await page.evaluate(() => import('/assets/call.js').then(({ current }) => current.iceServers[0]?.username))) ?? '';
    expect(guestUser).toMatch(/^\d+:haven-\d+-p2$/);
    for (const user of [server.username, guestUser]) {
      await expect.poll(() => readFile(turn.logFile, 'utf8')).toContain(`user <${user}>: incoming packet ALLOCATE processed, success`);
    }
  });
});
