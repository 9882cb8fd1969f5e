// Moments of a join, stamped inside the pages for the join-speed benchmark
// (join-speed.bench.mjs): every stamp is performance.timeOrigin plus a page's own
// high-resolution time, a wall clock in milliseconds that pages of one browser on one
// machine share, so no Playwright round trip adds to a figure. Each function runs in a
// page (page.evaluate); the stamps stay in `window.__join` (or in sessionStorage across
// the admission form's navigation) until read.

/**
 * Watches the other people's video tiles (`li[data-participant] video`): when the first
 * tile appears, when the page's stage becomes "admitted", and, through
 * requestVideoFrameCallback, when the first remote frame was received (its last packet)
 * and presented, i.e. decoded and handed to the screen.
 */
export function watchFirstFrame() {
  const wall = (/** @type {number} */ t) => performance.timeOrigin + t;
  const out = { tile: null, admitted: null, received: null, presented: null };
  /** @type {any} */ (window).__join = out;
  const hooked = new WeakSet();
  const hook = (/** @type {HTMLVideoElement} */ video) => {
    if (hooked.has(video)) return;
    hooked.add(video);
    video.requestVideoFrameCallback((now, meta) => {
      if (out.presented !== null) return;
      out.presented = wall(meta.presentationTime ?? now);
      if (meta.receiveTime) out.received = wall(meta.receiveTime);
    });
  };
  const scan = () => {
    const videos = document.querySelectorAll('li[data-participant] video');
    if (videos.length && out.tile === null) out.tile = wall(performance.now());
    for (const v of videos) hook(/** @type {HTMLVideoElement} */ (v));
    if (out.admitted === null && document.getElementById('call')?.dataset.stage === 'admitted') out.admitted = wall(performance.now());
  };
  new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-stage'] });
  scan();
}

/** What watchFirstFrame saw. */
export function firstFrame() {
  return /** @type {any} */ (window).__join;
}

/**
 * On the admission page: stamps the press of the final "Admit" button (the click event's
 * own time) in sessionStorage, which the call page the form leads to can read.
 */
export function stampAdmit() {
  const button = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Admit');
  button?.addEventListener('click', (e) => sessionStorage.setItem('bench-admit', String(performance.timeOrigin + e.timeStamp)), { capture: true });
}

/** The stamp stampAdmit left. */
export function admitStamp() {
  return Number(sessionStorage.getItem('bench-admit'));
}

/** When this page's navigation started and when its scripts had run (DOMContentLoaded done). */
export function pageLoad() {
  const [nav] = /** @type {PerformanceNavigationTiming[]} */ (performance.getEntriesByType('navigation'));
  return { start: performance.timeOrigin + nav.startTime, ready: performance.timeOrigin + nav.domContentLoadedEventEnd };
}

/**
 * On the check page: stamps the press of "Start the check", the first frame of the camera
 * preview, and the check's verdict ("Connected over …": the media server answered and the
 * connection carries media), which together make the check ready.
 */
export function watchCheck() {
  const wall = (/** @type {number} */ t) => performance.timeOrigin + t;
  const out = { start: null, preview: null, verdict: null };
  /** @type {any} */ (window).__check = out;
  document.getElementById('call-join')?.addEventListener('click', (e) => {
    out.start ??= wall(e.timeStamp);
  }, { capture: true });
  const preview = /** @type {HTMLVideoElement | null} */ (document.getElementById('local-video'));
  preview?.requestVideoFrameCallback((now, meta) => {
    out.preview = wall(meta.presentationTime ?? now);
  });
  const result = document.getElementById('precall-result');
  if (result) {
    new MutationObserver(() => {
      if (out.verdict === null && result.textContent?.startsWith('Connected')) out.verdict = wall(performance.now());
    }).observe(result, { subtree: true, childList: true, characterData: true });
  }
}

/** What watchCheck saw. */
export function checkStamps() {
  return /** @type {any} */ (window).__check;
}
