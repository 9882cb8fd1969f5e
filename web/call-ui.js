// The call page: wires the markup of pages/call.rs to the signalling (protocol.js) and the
// peer connection (call.js). Reads its data from the #call element's data- attributes.

import { Call } from './call.js';
import { CHAT_ERRORS, ChatPanel } from './chat.js';
import { Signal, socketUrl } from './protocol.js';
import { label, Tiles } from './tiles.js';

/** @typedef {import('./protocol.js').Participant} Participant */

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`the call page lacks #${id}`);
  return el;
}

/** Optional elements (the host's "End call for everyone"). @param {string} id */
function maybeButton(id) {
  const el = document.getElementById(id);
  return el instanceof HTMLButtonElement ? el : null;
}

const QUALITY_TEXT = {
  good: 'Connection: good',
  fair: 'Connection: fair — the picture may be less sharp',
  poor: 'Connection: poor — sound and picture may break up',
  unknown: 'Connection: measuring…',
};

class CallPage {
  /** @param {HTMLElement} root */
  constructor(root) {
    this.root = root;
    const what = {
      seat: root.dataset.seat || undefined,
      invite: root.dataset.invite || undefined,
      consultation: root.dataset.consultation || undefined,
    };
    this.status = byId('call-status', HTMLElement);
    this.join = byId('call-join', HTMLButtonElement);
    this.live = byId('call-live', HTMLElement);
    this.quality = byId('call-quality', HTMLElement);
    this.ended = byId('call-ended', HTMLElement);
    this.muteAudio = byId('mute-audio', HTMLButtonElement);
    this.muteVideo = byId('mute-video', HTMLButtonElement);
    this.audioOnly = byId('audio-only', HTMLButtonElement);
    this.leave = byId('leave-call', HTMLButtonElement);
    this.endCall = maybeButton('end-call');
    this.waiting = byId('call-waiting', HTMLElement);
    this.notice = byId('call-notice', HTMLElement);
    this.ending = byId('call-ending', HTMLElement);
    this.what = what;
    this.sideRoom = byId('call-side-room', HTMLElement);
    this.signal = new Signal(socketUrl(), what);
    this.chat = new ChatPanel(byId('chat', HTMLElement), this.signal);
    // A diagnostic switch (also used by the tests): only TURN relays, as if UDP and TCP
    // to the media server were blocked.
    const relayOnly = localStorage.getItem('haven-ice-policy') === 'relay';
    this.call = new Call(this.signal, { relayOnly });
    /** @type {string | null} */
    this.me = null;
    this.isHost = false;
    this.bandwidth = byId('call-bandwidth', HTMLElement);
    this.tiles = new Tiles(
      byId('tiles', HTMLElement),
      (id) => this.signal.eject(id),
      (id, width, height) => this.signal.view(id, width, height),
    );
    /** @type {Map<string, Participant>} */
    this.known = new Map();
    this.finished = false;
    this.wire();
  }

  /** @param {string} text */
  say(text) {
    this.status.textContent = text;
  }

  wire() {
    this.join.addEventListener('click', () => void this.start());
    // The page serves the button disabled until this listener is there.
    this.join.disabled = false;
    toggle(this.muteAudio, (on) => this.call.setMuted('audio', on));
    toggle(this.muteVideo, (on) => this.call.setMuted('video', on));
    // The server confirms with `audio_only` or `video_resumed`, which update the tiles.
    toggle(this.audioOnly, (on) => this.signal.prefer(on));
    this.leave.addEventListener('click', () => {
      this.signal.leave();
      this.finish('You left the call.');
    });
    this.endCall?.addEventListener('click', () => this.signal.end());

    const s = this.signal;
    s.on('welcome', (w) => {
      this.me = w.participant;
      this.root.dataset.me = w.participant;
      this.isHost = w.host;
      this.tiles.canEject = w.host;
      this.call.welcomed(w.ice_servers, w.resumed);
      this.say(w.resumed ? 'Reconnected. You are back in the call.' : 'You are in the call.');
      this.root.dataset.state = 'joined';
      this.participants(w.participants, false);
      // A test room has no waiting area: everyone in it is in the call.
      this.chat.me = w.participant;
      if (!this.what.invite && !this.what.consultation) this.chat.setVisible(true);
      if (w.resumed) this.tiles.resendSizes();
    });
    s.on('participants', ({ list }) => this.participants(list, true));
    s.on('stage', ({ stage }) => {
      this.root.dataset.stage = stage;
      this.waiting.hidden = stage !== 'waiting';
      this.chat.setVisible(stage === 'admitted');
      // Someone sent back to the waiting room sees nobody else, as before they were first
      // admitted (the server lists the others again when it admits them).
      if (stage === 'waiting') this.participants([], false);
      if (stage === 'waiting') this.say('You are in the waiting room. The clinician will let you in.');
      else if (stage === 'held') this.say('You are on hold. The clinician will be back with you shortly.');
      else this.say('You are in the consultation.');
    });
    s.on('notice', ({ text }) => {
      this.notice.textContent = `Message from the clinic: ${text}`;
      this.notice.hidden = false;
    });
    s.on('side_room', ({ active, text }) => {
      // Held while the clinician talks with someone else privately: say why, and take the
      // notice away once everyone is back.
      this.sideRoom.textContent = text;
      this.sideRoom.hidden = !active;
      this.say(text);
    });
    s.on('ending_soon', ({ text }) => {
      this.ending.textContent = `${text}.`;
      this.ending.hidden = false;
    });
    s.on('audio_only', ({ reason }) => {
      this.tiles.setAudioOnly(true);
      this.bandwidth.hidden = reason !== 'low_bandwidth';
      if (reason === 'low_bandwidth') {
        this.say('Your connection is too slow for video: video is paused, sound continues.');
      } else {
        this.say('Audio only: video from the others is paused. Sound continues.');
      }
    });
    s.on('video_resumed', () => {
      this.bandwidth.hidden = true;
      this.tiles.setAudioOnly(this.audioOnly.getAttribute('aria-pressed') === 'true');
      this.say('Video is back.');
    });
    s.on('speaker', ({ participant }) => this.tiles.setSpeaker(participant));
    s.on('quality', ({ participant, level }) => {
      if (participant !== this.me) this.tiles.setConnection(participant, level);
    });
    s.on('mute', ({ participant, kind, muted }) => {
      // A group's host muted this client, or stopped its video: show it off here too.
      if (participant === this.me) {
        (kind === 'audio' ? this.muteAudio : this.muteVideo).setAttribute('aria-pressed', String(muted));
        this.call.setMuted(kind, muted);
        return;
      }
      this.tiles.setMuted(participant, kind, muted);
      const what = kind === 'audio' ? 'microphone' : 'camera';
      this.say(`${label(participant)} turned their ${what} ${muted ? 'off' : 'on'}.`);
    });
    s.on('reconnecting', () => {
      this.root.dataset.state = 'reconnecting';
      this.say('Reconnecting…');
    });
    s.on('ejected', ({ reason }) => this.finish(`You were removed from the call: ${reason}.`));
    s.on('ended', ({ reason }) => this.finish(`${capitalise(reason)}.`));
    s.on('error', ({ code, message }) => {
      if (CHAT_ERRORS.has(code) || (code === 'not_host' && message.includes('chat'))) this.chat.refused(message);
      else if (code === 'unauthenticated' || code === 'room_ended') this.finish(message);
      else this.say(`Problem: ${message}`);
    });
    s.on('closed', ({ reason }) => this.finish(reason ? `The connection closed (${reason}).` : 'The connection closed.'));

    this.call.on('stream', ({ participant, stream }) => this.tiles.attach(participant, stream));
    this.call.on('state', ({ state }) => {
      if (state === 'failed' || state === 'disconnected') this.say('Reconnecting the media…');
      if (state === 'connected' && this.root.dataset.state !== 'reconnecting') this.root.dataset.media = 'connected';
    });
    this.call.on('quality', ({ quality, lossPercent, rttMs, transport }) => {
      this.quality.dataset.quality = quality;
      this.quality.dataset.transport = transport;
      const details = [`${lossPercent.toFixed(1)}% loss`];
      if (rttMs !== null) details.push(`${rttMs} ms round trip`);
      this.quality.textContent = `${QUALITY_TEXT[quality]} (${details.join(', ')})`;
    });
    this.call.on('problem', ({ message }) => this.say(`Problem with the media: ${message}`));
    addEventListener('online', () => this.call.restartIce());
    // @ts-ignore - the Network Information API is not in every browser (nor in lib.dom)
    navigator.connection?.addEventListener?.('change', () => this.call.restartIce());
    addEventListener('pagehide', () => {
      if (!this.finished) this.signal.leave();
    });
  }

  async start() {
    this.join.disabled = true;
    this.say('Starting your camera and microphone…');
    try {
      const local = await this.call.openDevices();
      const preview = byId('local-video', HTMLVideoElement);
      preview.srcObject = local;
      if (!local.getVideoTracks().length) this.muteVideo.disabled = true;
      this.devices(true, this.call.videoProblem);
    } catch (e) {
      this.join.disabled = false;
      this.say('Haven could not use your camera or microphone. Allow them for this site, then try again.');
      this.devices(false, e instanceof Error ? e.name : 'Error');
      return;
    }
    byId('call-start', HTMLElement).hidden = true;
    this.live.hidden = false;
    this.say('Connecting…');
    this.signal.connect();
  }

  /**
   * Tells the page (the pre-call check) how asking for the devices went: `ok` with the
   * microphone at least, and the name of the error that kept the camera (or everything) out.
   * @param {boolean} ok
   * @param {string | null} error
   */
  devices(ok, error) {
    this.root.dispatchEvent(new CustomEvent('devices', { detail: { ok, error } }));
  }

  /**
   * @param {Participant[]} list
   * @param {boolean} announce
   */
  participants(list, announce) {
    const others = list.filter((p) => p.id !== this.me);
    const ids = new Set(others.map((p) => p.id));
    for (const p of others) {
      if (announce && !this.known.has(p.id)) this.say(`${label(p.id)} joined the call.`);
      const before = this.known.get(p.id);
      if (announce && before && before.connected !== p.connected) {
        this.say(p.connected ? `${label(p.id)} is back.` : `${label(p.id)} lost their connection; waiting for them…`);
      }
      this.known.set(p.id, p);
      this.tiles.upsert(p);
    }
    for (const id of [...this.known.keys()]) {
      if (ids.has(id)) continue;
      this.known.delete(id);
      this.tiles.remove(id);
      if (announce) this.say(`${label(id)} left the call.`);
    }
  }

  /** The call is over for this page: close everything and say so. @param {string} reason */
  finish(reason) {
    if (this.finished) return;
    this.finished = true;
    this.call.close();
    this.tiles.clear();
    this.chat.setVisible(false);
    this.live.hidden = true;
    this.ending.hidden = true;
    byId('call-start', HTMLElement).hidden = true;
    this.root.dataset.state = 'ended';
    byId('call-ended-reason', HTMLElement).textContent = reason;
    this.ended.hidden = false;
    const title = byId('call-ended-title', HTMLElement);
    this.say(title.textContent ?? 'The call has ended — the connection is closed.');
    title.focus();
  }
}

/**
 * A toggle button: `aria-pressed` carries its state.
 * @param {HTMLButtonElement} button
 * @param {(on: boolean) => void} changed
 */
function toggle(button, changed) {
  button.addEventListener('click', () => {
    const on = button.getAttribute('aria-pressed') !== 'true';
    button.setAttribute('aria-pressed', String(on));
    changed(on);
  });
}

/** @param {string} text */
function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const root = document.getElementById('call');
if (root) new CallPage(root);
