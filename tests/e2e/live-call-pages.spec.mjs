// The call pages as people use them: the host's test-room page and the guest's invitation
// page pass axe (WCAG 2.x A and AA) at desktop and phone width, before and during a call;
// at 360×640 nothing scrolls sideways and every call control is on screen; and a guest
// joins and mutes with the keyboard alone, which the host and the server then know.
//
// Sorts after journey.spec.mjs on purpose (see live-call.spec.mjs).
import { expect, test } from './lib/fixtures.mjs';
import { addStaff, anotherLink, expectMediaFrom, guest, joinCall, openRoomPage, participantId, signInStaff } from './lib/call.mjs';
import { axe, DESKTOP, formatAxe, formatOverflow, overflow } from './lib/checks.mjs';

const ORG = 'Call Pages Practice';
const HOST = {
  name: 'Dev Patel',
  email: 'dev.patel@call-pages.example.org',
  initial: 'walnut comet tiller breeze',
  password: 'sorrel lagoon piston amber',
};
/** A small phone. */
const PHONE = { width: 360, height: 640 };
const CONTROLS = ['Mute microphone', 'Turn camera off', 'Audio only', 'Leave the call'];

/**
 * What the checks found, reported by the last two tests, so that a finding does not stop
 * the tests after it. `checked` names every page state checked.
 */
const found = { checked: [], axe: [], overflow: [] };

/** axe at desktop and phone width, and sideways scrolling at phone width; the page keeps its size. */
async function checkCallPage(page, name) {
  const before = page.viewportSize();
  for (const [viewport, size] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    await page.setViewportSize(size);
    const violations = await axe(page);
    if (violations.length) found.axe.push({ page: name, url: page.url(), viewport, violations });
  }
  const layout = await overflow(page);
  if (layout.scrollWidth > layout.innerWidth) found.overflow.push({ page: name, url: page.url(), ...layout });
  await page.setViewportSize(before);
  found.checked.push(name);
}

/** What has focus: its id, text, and whether it has a visible focus indicator and is on screen. */
function focused() {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    id: el.id,
    text: (el.textContent || '').trim().slice(0, 40),
    indicator: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== 'none',
    onScreen: box.width > 0 && box.height > 0 && box.left >= 0 && box.right <= window.innerWidth + 0.5,
  };
}

/** Presses Tab until the element with `id` has focus (at most 30 times); returns the path taken. */
async function tabTo(page, id) {
  const seen = [];
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(focused);
    seen.push(f ? `#${f.id} "${f.text}"` : '(nothing)');
    if (f?.id === id) {
      expect(f.indicator, `no visible focus indicator on #${id}`).toBe(true);
      expect(f.onScreen, `#${id} has focus but is off screen`).toBe(true);
      return seen;
    }
  }
  throw new Error(`Tab never reached #${id}: ${seen.join(' → ')}`);
}

/**
 * The participant list as the server has it: a protocol-only participant joins with another
 * seat of the room (from the invitation page, so that the WebSocket has the page's
 * origin), reads its `welcome`, and leaves.
 */
async function serverList(browser, link) {
  const page = await browser.newPage();
  try {
    await page.goto(link);
    return await page.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const seat = document.querySelector('#call').dataset.seat;
          const ws = new WebSocket(`ws://${location.host}/ws`);
          ws.onopen = () => ws.send(JSON.stringify({ type: 'join', v: 1, seat }));
          ws.onmessage = (e) => {
            const msg = JSON.parse(e.data);
            if (msg.type !== 'welcome') return reject(new Error(`not welcomed: ${e.data}`));
            ws.send(JSON.stringify({ type: 'leave' }));
            resolve(msg.participants);
          };
          ws.onerror = () => reject(new Error('the WebSocket failed'));
        }),
    );
  } finally {
    await page.context().close();
  }
}

test.describe('the call pages', () => {
  test.describe.configure({ mode: 'serial' });

  /** @type {import('@playwright/test').Page} */
  let host;
  /** @type {import('@playwright/test').Page} */
  let page;
  let link;

  test.beforeAll(async ({ browser }) => {
    await addStaff(ORG, HOST);
    host = await (await browser.newContext()).newPage();
    await signInStaff(host, HOST);
  });
  test.afterAll(async () => {
    for (const p of [host, page]) await p?.context().close();
  });

  test('before the call, the test-room page and the invitation page are checked with axe at desktop and phone width', async ({ browser }) => {
    link = await openRoomPage(host);
    await checkCallPage(host, 'test room (host, before joining)');
    await joinCall(host);
    page = await guest(browser, link, { join: false, viewport: PHONE });
    await checkCallPage(page, 'invitation (guest, before joining)');
  });

  test('with the keyboard alone at 360×640, a guest joins the call and turns the microphone off and on again', async ({ browser }) => {
    await tabTo(page, 'call-join');
    await page.keyboard.press('Enter');
    await expect(page.locator('#call')).toHaveAttribute('data-state', 'joined');
    const me = await participantId(page);
    await expectMediaFrom(host, [me], 'the host');

    const mute = page.locator('#mute-audio');
    await tabTo(page, 'mute-audio');
    await page.keyboard.press('Space');
    await expect(mute).toHaveAttribute('aria-pressed', 'true');
    expect(await page.evaluate(() => import('/assets/call.js').then(({ current }) => current.local.getAudioTracks().map((t) => t.enabled)))).toEqual([false]);
    // The host's tile for the guest says so, and so does the server's participant list.
    const tileState = host.locator(`li[data-participant="${me}"] .tile-state`);
    await expect(tileState).toHaveText('microphone off');
    const listed = await serverList(browser, await anotherLink(host));
    expect(listed.find((p) => p.id === me)).toMatchObject({ audio_muted: true, video_muted: false, connected: true });

    await expect(mute).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(mute).toHaveAttribute('aria-pressed', 'false');
    await expect(tileState).toHaveText('');
    expect(await page.evaluate(() => import('/assets/call.js').then(({ current }) => current.local.getAudioTracks().map((t) => t.enabled)))).toEqual([true]);
  });

  test('during the call, at 360×640, every call control is on screen and reachable by Tab, in order (and both pages are checked with axe)', async () => {
    const me = await participantId(page);
    await expectMediaFrom(page, [await participantId(host)], 'the guest');
    await expect(host.locator(`li[data-participant="${me}"]`)).toBeVisible();
    await checkCallPage(host, 'test room (host, in the call)');
    await checkCallPage(page, 'invitation (guest, in the call)');

    await host.setViewportSize(PHONE);
    for (const [who, p, names] of [['guest', page, CONTROLS], ['host', host, [...CONTROLS, 'End call for everyone']]]) {
      for (const name of names) {
        const button = p.getByRole('button', { name, exact: true });
        await expect(button, `${who}: ${name}`).toBeVisible();
        const box = await button.boundingBox();
        expect(box.x, `${who}: ${name} starts on screen`).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width, `${who}: ${name} ends on screen`).toBeLessThanOrEqual(PHONE.width);
        expect(box.height, `${who}: ${name} is a big enough target`).toBeGreaterThanOrEqual(24);
      }
      // From the page's heading, Tab reaches every control in order.
      await p.getByRole('heading', { level: 1 }).click();
      const path = await tabTo(p, 'leave-call');
      const order = path.join(' → ');
      const at = (id) => path.findIndex((s) => s.startsWith(`#${id} `));
      expect(at('mute-audio'), order).toBeGreaterThanOrEqual(0);
      expect(at('mute-video'), order).toBeGreaterThan(at('mute-audio'));
      expect(at('audio-only'), order).toBeGreaterThan(at('mute-video'));
      expect(at('leave-call'), order).toBeGreaterThan(at('audio-only'));
    }
    await host.setViewportSize(DESKTOP);
  });

  test('no call page has a WCAG 2.0/2.1/2.2 A or AA violation (axe-core), before or during the call', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(4);
    expect(found.axe.length, `axe found violations:\n${formatAxe(found.axe)}\n`).toBe(0);
  });

  test('no call page scrolls sideways on a 360×640 phone, before or during the call', async () => {
    expect(found.checked.length, `checked: ${found.checked.join(', ')}`).toBe(4);
    expect(found.overflow.length, `wider than a 360 px phone:\n${formatOverflow(found.overflow)}\n`).toBe(0);
  });
});
