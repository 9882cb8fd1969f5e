// The call's one RTCPeerConnection with Haven's media server: camera and microphone,
// negotiation driven by the signalling (web/protocol.js), ICE restarts, and a quality
// estimate from getStats. No DOM beyond the media it is given.

/** @typedef {import('./protocol.js').Signal} Signal */
/** @typedef {'good' | 'fair' | 'poor' | 'unknown'} Quality */

/**
 * What the events carry (`event.detail`).
 * @typedef {object} CallEvents
 * @property {{participant: string, stream: MediaStream}} stream a participant's media arrived
 * @property {{state: RTCPeerConnectionState}} state
 * @property {{quality: Quality, lossPercent: number, rttMs: number | null, transport: string}} quality
 * @property {{message: string}} problem
 */

/** Simulcast layers, lowest first, as haven-media expects (`a=simulcast:send q;h;f`). */
const SIMULCAST = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];
const STATS_EVERY_MS = 2000;
/** How long ICE may stay "disconnected" before it is restarted. */
const DISCONNECTED_GRACE_MS = 3000;

/**
 * The call in progress, for tests (`page.evaluate` imports this module): its peer
 * connection's getStats is the proof that media flows.
 * @type {Call | null}
 */
export let current = null;

export class Call extends EventTarget {
  /**
   * @param {Signal} signal
   * @param {{relayOnly?: boolean, simulcast?: boolean}} [options]
   */
  constructor(signal, options = {}) {
    super();
    this.signal = signal;
    this.relayOnly = options.relayOnly ?? false;
    this.simulcast = options.simulcast ?? true;
    /** @type {MediaStream | null} */
    this.local = null;
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** @type {string | null} why the camera could not be used, when it could not */
    this.videoProblem = null;
    /** @type {RTCIceServer[]} */
    this.iceServers = [];
    /** SDP work, one step at a time. */
    this.queue = Promise.resolve();
    /** @type {((sdp: string | null) => void) | null} resolves the offer awaiting its answer */
    this.awaitingAnswer = null;
    /** Whether the server has answered an offer of ours yet. */
    this.inMedia = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.disconnectedTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.statsTimer = undefined;
    /** @type {{lost: number, received: number} | null} */
    this.lastCounts = null;
    this.closed = false;
    current = this;

    signal.on('offer', ({ sdp }) => this.serialise(() => this.acceptOffer(sdp)));
    signal.on('answer', ({ sdp }) => {
      const waiting = this.awaitingAnswer;
      this.awaitingAnswer = null;
      waiting?.(sdp);
    });
    signal.on('error', ({ code }) => {
      if (code !== 'media_refused') return;
      const waiting = this.awaitingAnswer;
      this.awaitingAnswer = null;
      waiting?.(null);
      if (!this.inMedia && this.simulcast) {
        // A media server that cannot take the three layers: offer one encoding instead.
        this.simulcast = false;
        this.queue = this.queue.then(() => this.rebuild());
      }
    });
  }

  /**
   * @template {keyof CallEvents} K
   * @param {K} type
   * @param {(detail: CallEvents[K]) => void} handler
   */
  on(type, handler) {
    this.addEventListener(type, (e) => handler(/** @type {CustomEvent<CallEvents[K]>} */ (e).detail));
  }

  /**
   * @template {keyof CallEvents} K
   * @param {K} type
   * @param {CallEvents[K]} detail
   */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /**
   * Asks for the camera and microphone. Without a usable camera it falls back to the
   * microphone alone and keeps why (the error's name) in `videoProblem`, for the pre-call
   * check to explain; a failure of the microphone too is thrown.
   */
  async openDevices() {
    try {
      this.local = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: { ideal: 640 }, height: { ideal: 480 } },
      });
    } catch (e) {
      this.videoProblem = e instanceof Error ? e.name : 'Error';
      this.local = await navigator.mediaDevices.getUserMedia({ audio: true });
    }
    return this.local;
  }

  /**
   * Joins the media room (after the first `welcome`), or restarts ICE (after a later one).
   * @param {RTCIceServer[]} iceServers
   * @param {boolean} resumed
   */
  welcomed(iceServers, resumed) {
    this.iceServers = iceServers;
    if (!this.pc) {
      this.rebuild();
    } else if (resumed) {
      this.restartIce();
    }
  }

  /** A new peer connection with our tracks, and the offer that joins the media room. */
  rebuild() {
    this.pc?.close();
    const pc = new RTCPeerConnection({
      iceServers: this.iceServers,
      iceTransportPolicy: this.relayOnly ? 'relay' : 'all',
      bundlePolicy: 'max-bundle',
    });
    this.pc = pc;
    for (const track of this.local?.getTracks() ?? []) {
      /** @type {RTCRtpTransceiverInit} */
      const init = { direction: 'sendrecv', streams: [] };
      if (track.kind === 'video' && this.simulcast) init.sendEncodings = SIMULCAST;
      pc.addTransceiver(track, init);
    }
    pc.ontrack = (e) => {
      const stream = e.streams[0];
      if (stream) this.emit('stream', { participant: stream.id, stream });
    };
    pc.onconnectionstatechange = () => this.emit('state', { state: pc.connectionState });
    pc.oniceconnectionstatechange = () => this.iceChanged(pc);
    this.serialise(() => this.makeOffer(false));
    clearInterval(this.statsTimer);
    this.statsTimer = setInterval(() => void this.measure(), STATS_EVERY_MS);
  }

  /** Runs SDP steps in order; a failed step is reported, not fatal. @param {() => Promise<void>} step */
  serialise(step) {
    this.queue = this.queue.then(step).catch((e) => {
      if (!this.closed) this.emit('problem', { message: String(e?.message ?? e) });
    });
  }

  /** Sends an offer and applies the answer. @param {boolean} iceRestart */
  async makeOffer(iceRestart) {
    const pc = this.pc;
    if (!pc || this.closed) return;
    const offer = await pc.createOffer({ iceRestart });
    await pc.setLocalDescription(offer);
    const answered = new Promise((resolve) => {
      this.awaitingAnswer = resolve;
    });
    if (!this.signal.offer(pc.localDescription?.sdp ?? '')) {
      // The socket is down: the next `welcome` restarts ICE, from a stable state.
      this.awaitingAnswer = null;
      await pc.setLocalDescription({ type: 'rollback' });
      return;
    }
    const sdp = await Promise.race([answered, timeout(10_000)]);
    if (typeof sdp !== 'string') {
      if (pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' });
      throw new Error('the media server did not answer');
    }
    if (pc !== this.pc || pc.signalingState !== 'have-local-offer') return;
    await pc.setRemoteDescription({ type: 'answer', sdp });
    this.inMedia = true;
  }

  /** The server renegotiates (someone's tracks were added or removed). @param {string} sdp */
  async acceptOffer(sdp) {
    const pc = this.pc;
    if (!pc || this.closed) return;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    this.signal.answer(pc.localDescription?.sdp ?? '');
  }

  /** After a network change or a lost path: new ICE credentials, the same media. */
  restartIce() {
    if (!this.pc || this.closed) return;
    this.serialise(() => this.makeOffer(true));
  }

  /** @param {RTCPeerConnection} pc */
  iceChanged(pc) {
    clearTimeout(this.disconnectedTimer);
    if (pc !== this.pc || this.closed) return;
    if (pc.iceConnectionState === 'failed') this.restartIce();
    if (pc.iceConnectionState === 'disconnected') {
      this.disconnectedTimer = setTimeout(() => {
        if (pc.iceConnectionState === 'disconnected') this.restartIce();
      }, DISCONNECTED_GRACE_MS);
    }
  }

  /**
   * Turns the microphone or camera off (the track stays, sending silence or black) and
   * tells the others.
   * @param {'audio' | 'video'} kind
   * @param {boolean} muted
   */
  setMuted(kind, muted) {
    for (const t of this.local?.getTracks() ?? []) if (t.kind === kind) t.enabled = !muted;
    this.signal.mute(kind, muted);
  }

  /** Packets lost and received, the round trip, and the path, from getStats. */
  async measure() {
    const pc = this.pc;
    if (!pc || this.closed || pc.connectionState !== 'connected') return;
    const report = await pc.getStats();
    let lost = 0;
    let received = 0;
    /** @type {number | null} */
    let rttMs = null;
    let transport = '';
    /** @type {Map<string, any>} */
    const byId = new Map();
    report.forEach((s) => byId.set(s.id, s));
    for (const s of byId.values()) {
      if (s.type === 'inbound-rtp') {
        lost += Math.max(0, s.packetsLost ?? 0);
        received += s.packetsReceived ?? 0;
      }
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
        if (typeof s.currentRoundTripTime === 'number') rttMs = Math.round(s.currentRoundTripTime * 1000);
        const localCandidate = byId.get(s.localCandidateId);
        if (localCandidate) {
          const relay = localCandidate.candidateType === 'relay' ? ' relay' : '';
          transport = `${localCandidate.relayProtocol ?? localCandidate.protocol}${relay}`;
        }
      }
    }
    const last = this.lastCounts ?? { lost: 0, received: 0 };
    this.lastCounts = { lost, received };
    const dLost = lost - last.lost;
    const total = dLost + (received - last.received);
    const lossPercent = total > 0 ? (100 * dLost) / total : 0;
    /** @type {Quality} */
    let quality = 'good';
    if (total === 0) quality = 'unknown';
    else if (lossPercent > 8 || (rttMs ?? 0) > 600) quality = 'poor';
    else if (lossPercent > 2 || (rttMs ?? 0) > 300) quality = 'fair';
    this.emit('quality', { quality, lossPercent, rttMs, transport });
  }

  /** The call is over: stop the camera and close the peer connection. */
  close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.statsTimer);
    clearTimeout(this.disconnectedTimer);
    this.pc?.close();
    for (const t of this.local?.getTracks() ?? []) t.stop();
  }
}

/** @param {number} ms */
function timeout(ms) {
  return new Promise((resolve) => setTimeout(() => resolve(null), ms));
}
