// Live calls through Haven's media server, in real Chromium pages with fake cameras: a
// staff member opens a test room and guests join by invitation link; media flows both ways
// (getStats), a third sees the other two, the host ejects one (enforced within a second),
// with UDP blocked the call still connects over ICE-TCP, audio only stops video arriving, and
// a larger view switches simulcast layers without breaking the picture.
// At most three pages at once.
//
// The file sorts after journey.spec.mjs on purpose: it adds its own organisation with
// `haven admin`, which must not happen before the journey's first-run setup.
import { expect, test } from './lib/fixtures.mjs';
import { addStaff, anotherLink, expectMediaFrom, expectVideoStopsAudioGoesOn, guest, inboundByParticipant, inboundOfTracks, openRoom, participantId, run, selectedPath, showAt, signInStaff, videoFrom } from './lib/call.mjs';

const ORG = 'Call Test Practice';
const HOST = {
  name: 'Sam Rivers',
  email: 'sam.rivers@call-test.example.org',
  initial: 'marble ember quartz willow',
  password: 'heron tangerine pocket falls',
};

test.describe('live calls through Haven', () => {
  test.describe.configure({ mode: 'serial' });

  /** @type {import('@playwright/test').Page} */
  let host;
  /** @type {import('@playwright/test').Page[]} */
  const guests = [];

  test.beforeAll(async ({ browser }) => {
    await addStaff(ORG, HOST);
    const context = await browser.newContext();
    host = await context.newPage();
    await signInStaff(host, HOST);
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
      await expectMediaFrom(page, [await participantId(host)], 'the guest');
      await expectMediaFrom(host, [await participantId(page)], 'the host');
      for (const p of [host, page]) expect(await p.evaluate(selectedPath)).toMatchObject({ protocol: 'tcp' });
    } finally {
      await run('iptables', ['-D', 'OUTPUT', '-p', 'udp', '-j', 'DROP']);
    }
  });

  test('audio only: video from the others stops arriving while their sound goes on, and comes back when turned off', async ({ browser }) => {
    await guests.pop()?.context().close();
    const link = await openRoom(host);
    const page = await guest(browser, link);
    guests.push(page);
    const [me, them] = [await participantId(page), await participantId(host)];
    await expectMediaFrom(page, [them], 'the guest');
    await expectMediaFrom(host, [me], 'the host');

    const button = page.getByRole('button', { name: 'Audio only' });
    await button.click();
    await expect(button).toHaveAttribute('aria-pressed', 'true');
    // Everyone sees the preference in the participant list.
    await expect(host.locator(`li[data-participant="${me}"] .tile-state`)).toHaveText('audio only');
    // The media server stops forwarding video to the guest; the host still gets the guest's.
    await expectVideoStopsAudioGoesOn(page, them, 'the guest in audio only');
    await expectMediaFrom(host, [me], 'the host');

    await button.click();
    await expect(button).toHaveAttribute('aria-pressed', 'false');
    await expect(host.locator(`li[data-participant="${me}"] .tile-state`)).toHaveText('');
    await expectMediaFrom(page, [them], 'the guest after audio only');
  });

  test('shown larger, a video switches up a simulcast layer, and back down, and keeps playing', async ({ browser }) => {
    await guests.pop()?.context().close();
    const link = await openRoom(host);
    const page = await guest(browser, link);
    guests.push(page);
    const them = await participantId(host);
    await expectMediaFrom(page, [them], 'the guest');

    // The media server forwards packets as they come, from one layer at a time, renumbered
    // so each switch continues the stream the decoder had: it must go on decoding.
    /** @param {(h: number, before: number) => boolean} fits */
    const expectHeight = async (fits, what) => {
      const before = await page.evaluate(videoFrom, them);
      await expect
        .poll(async () => {
          const now = await page.evaluate(videoFrom, them);
          return now && fits(now.height, before.height) ? 'ok' : `${what}: ${JSON.stringify(now)} (before ${JSON.stringify(before)})`;
        }, { timeout: 20_000, intervals: [250, 500] })
        .toBe('ok');
      const switched = await page.evaluate(videoFrom, them);
      await expect
        .poll(async () => (await page.evaluate(videoFrom, them)).frames - switched.frames, { timeout: 10_000, message: `${what}: pictures go on` })
        .toBeGreaterThan(30);
      return switched;
    };
    await showAt(page, them, 160, 90);
    const small = await expectHeight((h) => h > 0 && h <= 120, 'the smallest layer');
    await showAt(page, them, 1280, 720);
    await expectHeight((h) => h > small.height, 'a larger layer');
    await showAt(page, them, 160, 90);
    await expectHeight((h) => h <= small.height, 'the smallest layer again');
  });
});
