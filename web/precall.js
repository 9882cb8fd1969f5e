// The pre-call check around the call panel on a patient's waiting page: it warns when the
// link opened inside another app's browser, explains a camera or microphone that cannot
// be used, plays a test sound, reports the connection the call found (the path, and how
// much it can send), and tells Haven whether the check passed or which problem it found
// (a fixed code, nothing about the person or device). The fixes' words are in the page.

import * as callModule from './call.js';

/** In-app browsers (Facebook, Instagram, WhatsApp, Gmail, Google app, LinkedIn, TikTok…):
 * they often block the camera or lose the call when switching apps. */
const IN_APP = /FBAN|FBAV|FB_IAB|Instagram|WhatsApp|GSA\/|Gmail|LinkedInApp|musical_ly|Snapchat|Line\/|; wv\)/;
/** Below this (kbit/s available for sending) video breaks up: offer sound only. */
const LOW_KBPS = 150;
/** Seconds of bandwidth estimates the verdict waits for once connected. */
const BANDWIDTH_SAMPLES = 5;
/** How long the connection may take before the page says what to try. */
const CONNECT_WITHIN_MS = 30_000;

/** @typedef {'permission_denied' | 'camera_in_use' | 'no_camera' | 'in_app_browser' | 'low_bandwidth' | 'no_connection'} Problem */

const panel = document.getElementById('precall');
const call = document.getElementById('call');
const result = document.getElementById('precall-result');

/** @param {string} text */
function report(text) {
  if (result) result.textContent = text;
}

/** Which fix for permissions applies to this device. */
function device() {
  const ua = navigator.userAgent;
  if (/iPhone|iPad|iPod/.test(ua)) return 'ios';
  if (/Android/.test(ua)) return 'android';
  return 'desktop';
}

/** What the check found, each sent to Haven once per page. */
const sent = new Set();

/**
 * Tells Haven the check's result: the link's own token in the path, the CSRF token in a
 * header, and nothing else.
 * @param {'check_passed' | 'check_failed'} outcome
 * @param {Problem | ''} [problem]
 */
function send(outcome, problem = '') {
  const token = call?.dataset.invite;
  const key = `${outcome}:${problem}`;
  if (!token || sent.has(key)) return;
  sent.add(key);
  void fetch(`/join/${encodeURIComponent(token)}/check-result`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'x-csrf-token': panel?.dataset.csrf ?? '' },
    body: new URLSearchParams({ result: outcome, problem }),
  }).catch(() => {
    // Only the figures miss it: the check itself goes on.
  });
}

/**
 * Shows the fix for a problem and records it.
 * @param {Problem} problem
 */
function problemFound(problem) {
  const fix = document.getElementById(`fix-${problem}`);
  if (fix) {
    fix.hidden = false;
    for (const p of fix.querySelectorAll('[data-device]')) {
      if (p instanceof HTMLElement) p.hidden = p.dataset.device !== device();
    }
  }
  send('check_failed', problem);
}

/** @param {Problem} problem */
function problemGone(problem) {
  const fix = document.getElementById(`fix-${problem}`);
  if (fix) fix.hidden = true;
}

/**
 * The check's problem for a getUserMedia error name.
 * @param {string} name
 * @returns {Problem}
 */
function deviceProblem(name) {
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'permission_denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'no_camera';
  return 'camera_in_use';
}

if (IN_APP.test(navigator.userAgent)) problemFound('in_app_browser');

document.getElementById('speaker-test')?.addEventListener('click', () => {
  const context = new AudioContext();
  const tone = context.createOscillator();
  const gain = context.createGain();
  tone.frequency.value = 440;
  gain.gain.value = 0.2;
  tone.connect(gain).connect(context.destination);
  tone.start();
  tone.stop(context.currentTime + 1);
  tone.onended = () => void context.close();
  report('Did you hear a tone? If not, turn up the volume or check your headphones, then try again.');
});

document.getElementById('precall-audio-only')?.addEventListener('click', () => {
  const audioOnly = document.getElementById('audio-only');
  if (audioOnly instanceof HTMLButtonElement && audioOnly.getAttribute('aria-pressed') !== 'true') audioOnly.click();
  problemGone('low_bandwidth');
  report('Sound only: the clinician will hear you, and you them. Video from the others is paused.');
});

/**
 * Reads the connection the call uses, once it is up, and says what it found: the path
 * and the bandwidth available for sending (kbit/s, 0 while unknown), or null before then.
 */
async function connection() {
  const pc = callModule.current?.pc;
  if (!pc || pc.connectionState !== 'connected') return null;
  const stats = await pc.getStats();
  /** @type {any} */
  let pair = null;
  stats.forEach((s) => {
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
  });
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId);
  const path = local?.candidateType === 'relay' ? 'through a relay' : local?.protocol === 'tcp' ? 'over TCP' : 'over UDP';
  const kbps = Math.round((pair.availableOutgoingBitrate ?? 0) / 1000);
  if (call) call.dataset.path = path;
  problemGone('no_connection');
  if (kbps > 0 && kbps < LOW_KBPS) {
    report(`Connected ${path}, but your connection is slow (about ${kbps} kbit/s). If the picture breaks up, choose "Audio only".`);
  } else {
    report(`Connected ${path}${kbps ? `, about ${kbps} kbit/s available` : ''}. Your camera, microphone and connection work.`);
  }
  return kbps;
}

/**
 * Watches for the connection once the devices are on, and says what to try if it never
 * comes. The browser's bandwidth estimate starts low and grows, so the verdict waits for
 * a few seconds of it and takes the best.
 */
function watchConnection() {
  const started = Date.now();
  /** @type {number[]} */
  const samples = [];
  // Said as soon as the connection is up, not at the first sample a second later: the
  // patient is waiting for it. Later reconnections are the call's to report.
  callModule.current?.on('state', ({ state }) => {
    if (state === 'connected' && !samples.length) void connection();
  });
  const timer = setInterval(() => {
    void connection().then((kbps) => {
      if (kbps === null) {
        if (Date.now() - started > CONNECT_WITHIN_MS) problemFound('no_connection');
        return;
      }
      samples.push(kbps);
      if (samples.length < BANDWIDTH_SAMPLES) return;
      clearInterval(timer);
      const best = Math.max(...samples);
      if (best > 0 && best < LOW_KBPS) problemFound('low_bandwidth');
      else send('check_passed');
    });
  }, 1000);
}

call?.addEventListener('devices', (e) => {
  const { ok, error } = /** @type {CustomEvent<{ok: boolean, error: string | null}>} */ (e).detail;
  if (error) problemFound(deviceProblem(error));
  if (ok) watchConnection();
});
