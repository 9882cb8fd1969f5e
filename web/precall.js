// The pre-call check around the call panel on a patient's waiting page: it warns when the
// link opened inside another app's browser, plays a test sound, and reports the
// connection the call found (the path, and how much it can send) in plain language.

import * as callModule from './call.js';

/** In-app browsers (Facebook, Instagram, WhatsApp, Gmail, Google app, LinkedIn, TikTok…):
 * they often block the camera or lose the call when switching apps. */
const IN_APP = /FBAN|FBAV|FB_IAB|Instagram|WhatsApp|GSA\/|Gmail|LinkedInApp|musical_ly|Snapchat|Line\/|; wv\)/;

const inApp = document.getElementById('inapp');
if (inApp && IN_APP.test(navigator.userAgent)) inApp.hidden = false;

const result = document.getElementById('precall-result');

/** @param {string} text */
function report(text) {
  if (result) result.textContent = text;
}

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

/** Reads the connection the call uses, once it is up, and says what it found. */
async function connection() {
  const pc = callModule.current?.pc;
  if (!pc || pc.connectionState !== 'connected') return false;
  const stats = await pc.getStats();
  /** @type {any} */
  let pair = null;
  stats.forEach((s) => {
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
  });
  if (!pair) return false;
  const local = stats.get(pair.localCandidateId);
  const path = local?.candidateType === 'relay' ? 'through a relay' : local?.protocol === 'tcp' ? 'over TCP' : 'over UDP';
  const kbps = Math.round((pair.availableOutgoingBitrate ?? 0) / 1000);
  const document_ = /** @type {HTMLElement} */ (document.getElementById('call'));
  document_.dataset.path = path;
  if (kbps > 0 && kbps < 150) {
    report(`Connected ${path}, but your connection is slow (about ${kbps} kbit/s). If the picture breaks up, choose "Audio only".`);
  } else {
    report(`Connected ${path}${kbps ? `, about ${kbps} kbit/s available` : ''}. Your camera, microphone and connection work.`);
  }
  return true;
}

const timer = setInterval(() => {
  void connection().then((done) => {
    if (done) clearInterval(timer);
  });
}, 1000);
