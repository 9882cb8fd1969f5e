// Live calls when the network misbehaves: the guest's signalling connection is cut (its
// TCP connection reset, as a network drop or a NAT that forgets it would), and the guest's
// media path dies (its UDP port blocked). Each time the client must recover by itself: the
// same participant comes back through the reconnection grace, or an ICE restart finds a
// new path, and media flows again both ways.
//
// Sorts after journey.spec.mjs on purpose (see live-call.spec.mjs).
import { expect, test } from './lib/fixtures.mjs';
import { addStaff, expectMediaBeyond, expectMediaFrom, guest, inboundByParticipant, joinCall, openRoom, participantId, recordWelcomes, run, selectedPath, signInStaff } from './lib/call.mjs';

const ORG = 'Network Test Practice';
const HOST = {
  name: 'Ruth Calder',
  email: 'ruth.calder@network-test.example.org',
  initial: 'basalt feather unicorn tidal',
  password: 'quince harbour velvet stork',
};

/** The local ports of the established TCP connections to Haven's HTTP port (`ss`). */
async function connectionsToHaven() {
  const port = new URL(process.env.HAVEN_E2E_BASE).port;
  const { stdout } = await run('ss', ['-Htn', 'state', 'established', `( dport = :${port} )`]);
  const ports = new Set();
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`127\\.0\\.0\\.1:(\\d+)\\s+127\\.0\\.0\\.1:${port}\\b`).exec(line);
    if (m) ports.add(m[1]);
  }
  return ports;
}

/**
 * Resets the given connections to Haven's HTTP port (`ss -K`): the browser's socket is
 * aborted and Haven's end gets a TCP reset; no WebSocket close frame is sent by anyone.
 */
async function resetConnections(localPorts) {
  const port = new URL(process.env.HAVEN_E2E_BASE).port;
  const sports = [...localPorts].map((p) => `sport = :${p}`).join(' or ');
  const { stdout } = await run('ss', ['-HK', '-tn', 'state', 'established', `( dport = :${port} and ( ${sports} ) )`]);
  return stdout.trim().split('\n').filter(Boolean).length;
}

/** Records, in the page, every value #call's data-state takes and every tile's data-connected. */
function watchCallState() {
  const w = /** @type {any} */ (window);
  const root = document.querySelector('#call');
  w.havenStates = [];
  w.havenTiles = [];
  new MutationObserver((changes) => {
    for (const c of changes) {
      const el = /** @type {HTMLElement} */ (c.target);
      if (el === root) w.havenStates.push(root.dataset.state);
      else if (el.dataset.participant) w.havenTiles.push(`${el.dataset.participant}:${el.dataset.connected}`);
    }
  }).observe(root, { attributes: true, subtree: true, attributeFilter: ['data-state', 'data-connected'] });
}

/** The ICE connection states the page's peer connection goes through from now on. */
function watchIce() {
  return import('/assets/call.js').then(({ current }) => {
    const w = /** @type {any} */ (window);
    w.havenIce = [];
    current.pc.addEventListener('iceconnectionstatechange', () => w.havenIce.push(current.pc.iceConnectionState));
  });
}

/** The page's recorded values (see watchCallState), each run of repeats counted once. */
function changes(page, name) {
  return page.evaluate((n) => window[n].filter((v, i, all) => i === 0 || v !== all[i - 1]), name);
}

/** The ids in the participant list as the page shows it (remote tiles). */
const tiles = (page) => page.locator('li[data-participant]').evaluateAll((els) => els.map((e) => e.dataset.participant));

test.describe('live calls on a bad network', () => {
  test.describe.configure({ mode: 'serial' });

  /** @type {import('@playwright/test').Page} */
  let host;
  /** @type {import('@playwright/test').Page[]} */
  const guests = [];

  test.beforeAll(async ({ browser }) => {
    await addStaff(ORG, HOST);
    host = await (await browser.newContext()).newPage();
    await signInStaff(host, HOST);
  });
  test.afterAll(async () => {
    for (const page of [host, ...guests]) await page?.context().close();
  });

  test('a dropped WebSocket reconnects to the same seat within the grace, without joining anew, and media resumes', async ({ browser }) => {
    const link = await openRoom(host);
    const page = await guest(browser, link, { join: false });
    guests.push(page);
    const welcomes = recordWelcomes(page);
    const before = await connectionsToHaven();
    await joinCall(page);
    const me = await participantId(page);
    expect(me).toBe('p2');
    await expect(host.locator(`li[data-participant="${me}"]`)).toHaveAttribute('data-connected', 'true');
    // The guest's WebSocket is the connection that joining opened.
    const signalling = [...(await connectionsToHaven())].filter((p) => !before.has(p));
    expect(signalling.length, 'connections the guest opened to join').toBeGreaterThan(0);
    await expectMediaFrom(page, ['p1'], 'the guest');
    await expectMediaFrom(host, [me], 'the host');
    const ufrag = (await page.evaluate(selectedPath)).ufrag;
    await page.evaluate(watchCallState);
    await host.evaluate(watchCallState);
    const atGuest = (await page.evaluate(inboundByParticipant)).p1;
    const atHost = (await host.evaluate(inboundByParticipant))[me];

    expect(await resetConnections(signalling), 'connections reset').toBeGreaterThan(0);

    // The guest says it is reconnecting, then is back in the call as the same participant.
    await expect.poll(() => changes(page, 'havenStates'), { timeout: 10_000 }).toEqual(['reconnecting', 'joined']);
    await expect(page.locator('#call')).toHaveAttribute('data-state', 'joined');
    await expect(page.locator('#call-status')).toHaveText('Reconnected. You are back in the call.');
    expect(welcomes.map((w) => w.participant)).toEqual([me, me]);
    expect(await participantId(page)).toBe(me);
    // The host saw the guest's connection lost and resumed, and no one new joined.
    await expect.poll(() => changes(host, 'havenTiles'), { timeout: 10_000 }).toEqual([`${me}:false`, `${me}:true`]);
    expect(await host.evaluate(() => window.havenStates), 'the host stayed in the call').toEqual([]);
    expect(await tiles(host)).toEqual([me]);
    expect(await tiles(page)).toEqual(['p1']);
    // The client restarted ICE after resuming (new credentials), and media flows on both ways.
    await expect.poll(async () => (await page.evaluate(selectedPath))?.ufrag, { timeout: 10_000 }).not.toBe(ufrag);
    await expectMediaBeyond(page, 'p1', atGuest, 'the guest');
    await expectMediaBeyond(host, me, atHost, 'the host');
    await expectMediaFrom(page, ['p1'], 'the guest');
    await expectMediaFrom(host, [me], 'the host');
  });

  test("when the guest's media path dies, the client restarts ICE and media resumes over a new path", async ({ browser }) => {
    await guests.pop()?.context().close();
    const link = await openRoom(host);
    const page = await guest(browser, link);
    guests.push(page);
    const me = await participantId(page);
    await expectMediaFrom(page, ['p1'], 'the guest');
    await expectMediaFrom(host, [me], 'the host');
    const path = await page.evaluate(selectedPath);
    expect(path).toMatchObject({ protocol: 'udp', type: 'host', ice: 'connected' });
    await page.evaluate(watchIce);
    const atGuest = (await page.evaluate(inboundByParticipant)).p1;
    const atHost = (await host.evaluate(inboundByParticipant))[me];

    // The guest's UDP socket loses its path (as when a phone leaves a Wi-Fi network), and
    // ICE-TCP to the media port is closed too, so only a restart on a new socket can help.
    const rules = [
      ['-p', 'udp', '--dport', String(path.port)],
      ['-p', 'udp', '--sport', String(path.port)],
      ['-p', 'tcp', '--dport', String(path.remotePort)],
      ['-p', 'tcp', '--sport', String(path.remotePort)],
    ];
    for (const r of rules) await run('iptables', ['-I', 'INPUT', ...r, '-j', 'DROP']);
    try {
      await expect.poll(() => page.evaluate(() => window.havenIce), { timeout: 10_000 }).toContain('disconnected');
      await expect.poll(async () => (await page.evaluate(selectedPath))?.ufrag, { timeout: 15_000 }).not.toBe(path.ufrag);
      await expectMediaBeyond(page, 'p1', atGuest, 'the guest');
      await expectMediaBeyond(host, me, atHost, 'the host');
      const now = await page.evaluate(selectedPath);
      expect(now).toMatchObject({ protocol: 'udp', ice: 'connected' });
      expect(now.port, 'the new path uses another socket').not.toBe(path.port);
      // The media came back through ICE, not a new call: same participant, same peer connection.
      expect(await participantId(page)).toBe(me);
      expect(await tiles(host)).toEqual([me]);
      await expect(page.locator('#call')).toHaveAttribute('data-state', 'joined');
    } finally {
      for (const r of rules) await run('iptables', ['-D', 'INPUT', ...r, '-j', 'DROP']);
    }
  });
});
