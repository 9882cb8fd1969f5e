// Haven's signalling protocol, version 1 (docs/protocol.md), over one WebSocket. No DOM:
// the class sends the client's messages, dispatches the server's as events, and
// reconnects after a drop (same seat, within the server's reconnection grace).

/**
 * @typedef {object} Participant
 * @property {string} id
 * @property {boolean} host
 * @property {boolean} connected
 * @property {boolean} audio_muted
 * @property {boolean} video_muted
 * @property {boolean} audio_only
 * @property {string} [name] in a group: the name this client may see (hosts see full names)
 */

/**
 * A participant's connection as the server measures it.
 * @typedef {object} QualityReport
 * @property {string} participant
 * @property {'good' | 'fair' | 'poor'} level
 * @property {number} loss_permille
 * @property {number | null} rtt_ms
 * @property {number} in_kbps
 * @property {number} out_kbps
 */

/**
 * A chat message (or a shared file) from someone in the call; shown as plain text only.
 * @typedef {object} ChatMessage
 * @property {number} seq
 * @property {string} from the sender's participant id
 * @property {string} name the sender's name as shown in the call
 * @property {string} sent_at RFC 3339
 * @property {string} text
 * @property {boolean} link whether the text contains a web address (shown with a warning)
 * @property {{id: string, name: string, mime: string, bytes: number} | null} file
 */

/**
 * @typedef {object} Welcome
 * @property {string} participant
 * @property {string} room
 * @property {boolean} host
 * @property {Participant[]} participants
 * @property {RTCIceServer[]} ice_servers
 */

/**
 * What the events carry (`event.detail`).
 * @typedef {object} SignalEvents
 * @property {Welcome & {resumed: boolean}} welcome
 * @property {{sdp: string}} offer
 * @property {{sdp: string}} answer
 * @property {{list: Participant[]}} participants
 * @property {{participant: string, kind: 'audio' | 'video', muted: boolean}} mute
 * @property {{reason: 'requested' | 'low_bandwidth'}} audio_only the server stopped sending video
 * @property {{}} video_resumed
 * @property {{participant: string}} speaker
 * @property {QualityReport} quality
 * @property {{stage: 'waiting' | 'admitted' | 'held'}} stage where this client is in a consultation
 * @property {{text: string}} notice a message from the clinic to someone waiting
 * @property {ChatMessage} chat
 * @property {{saved: number, text: string}} chat_kept a clinician keeps the chat with the record
 * @property {{key: string, max_bytes: number}} chat_files files may be shared, with this key
 * @property {{active: boolean, text: string}} side_room the clinician talks privately with someone else; this client is held until it ends
 * @property {{minutes: number, text: string}} ending_soon the consultation ends by its time limit soon
 * @property {{reason: string}} ejected
 * @property {{reason: string}} ended
 * @property {{code: string, message: string}} error
 * @property {{attempt: number}} reconnecting
 * @property {{code: number, reason: string}} closed
 */

export const PROTOCOL_VERSION = 1;
/** Must stay under the server's grace (30 s by default). */
const RECONNECT_FOR_MS = 25_000;
const PING_EVERY_MS = 20_000;

/** Codes after which joining again cannot help. */
const FATAL = new Set(['unauthenticated', 'unsupported_version', 'room_ended', 'rate_limited']);

export class Signal extends EventTarget {
  /**
   * @param {string} url the `/ws` address (`wss://` under HTTPS)
   * @param {{seat?: string, invite?: string, consultation?: string}} what what to join: a test
   *   room's seat token, a consultation's invitation token, or (staff) a consultation id;
   *   nothing for the test room the signed-in staff member hosts
   */
  constructor(url, what) {
    super();
    this.url = url;
    this.what = what;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** Whether a `welcome` has been had on some connection. */
    this.joined = false;
    /** The call is over for this client: never reconnect. */
    this.finished = false;
    /** @type {number | null} when the current drop began */
    this.droppedAt = null;
    this.attempt = 0;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.pinger = undefined;
  }

  /**
   * @template {keyof SignalEvents} K
   * @param {K} type
   * @param {(detail: SignalEvents[K]) => void} handler
   */
  on(type, handler) {
    this.addEventListener(type, (e) => handler(/** @type {CustomEvent<SignalEvents[K]>} */ (e).detail));
  }

  /**
   * @template {keyof SignalEvents} K
   * @param {K} type
   * @param {SignalEvents[K]} detail
   */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Opens the socket and joins; reconnects by itself after a drop. */
  connect() {
    if (this.finished) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      /** @type {{type: 'join', v: number, seat?: string, invite?: string, consultation?: string}} */
      const join = { type: 'join', v: PROTOCOL_VERSION };
      if (this.what.seat) join.seat = this.what.seat;
      if (this.what.invite) join.invite = this.what.invite;
      if (this.what.consultation) join.consultation = this.what.consultation;
      this.send(join);
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.send({ type: 'ping' }), PING_EVERY_MS);
    };
    ws.onmessage = (e) => this.receive(e.data);
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      clearInterval(this.pinger);
      this.ws = null;
      this.closed(e.code, e.reason);
    };
  }

  /** @param {unknown} data */
  receive(data) {
    if (typeof data !== 'string') return;
    /** @type {any} */
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    switch (msg?.type) {
      case 'welcome': {
        const resumed = this.joined;
        this.joined = true;
        this.droppedAt = null;
        this.attempt = 0;
        this.emit('welcome', { ...msg, resumed });
        break;
      }
      case 'offer':
      case 'answer':
        this.emit(msg.type, { sdp: msg.sdp });
        break;
      case 'participants':
        this.emit('participants', { list: msg.list });
        break;
      case 'mute':
        this.emit('mute', { participant: msg.participant, kind: msg.kind, muted: msg.muted });
        break;
      case 'stage':
        this.emit('stage', { stage: msg.stage });
        break;
      case 'notice':
        this.emit('notice', { text: String(msg.text ?? '') });
        break;
      case 'chat':
        this.emit('chat', {
          seq: Number(msg.seq),
          from: String(msg.from ?? ''),
          name: String(msg.name ?? ''),
          sent_at: String(msg.sent_at ?? ''),
          text: String(msg.text ?? ''),
          link: msg.link === true,
          file: msg.file ?? null,
        });
        break;
      case 'chat_kept':
        this.emit('chat_kept', { saved: Number(msg.saved), text: String(msg.text ?? '') });
        break;
      case 'chat_files':
        this.emit('chat_files', { key: String(msg.key ?? ''), max_bytes: Number(msg.max_bytes) });
      case 'side_room':
        this.emit('side_room', { active: Boolean(msg.active), text: String(msg.text ?? '') });
        break;
      case 'ending_soon':
        this.emit('ending_soon', { minutes: Number(msg.minutes), text: String(msg.text ?? '') });
        break;
      case 'audio_only':
        this.emit('audio_only', { reason: msg.reason });
        break;
      case 'video_resumed':
        this.emit('video_resumed', {});
        break;
      case 'speaker':
        this.emit('speaker', { participant: msg.participant });
        break;
      case 'quality':
        this.emit('quality', {
          participant: msg.participant,
          level: msg.level,
          loss_permille: msg.loss_permille,
          rtt_ms: msg.rtt_ms ?? null,
          in_kbps: msg.in_kbps,
          out_kbps: msg.out_kbps,
        });
        break;
      case 'ejected':
      case 'ended':
        this.finished = true;
        this.emit(msg.type, { reason: msg.reason });
        break;
      case 'error':
        if (FATAL.has(msg.code)) this.finished = true;
        this.emit('error', { code: msg.code, message: msg.message });
        break;
      default:
        break;
    }
  }

  /**
   * The socket closed: the end of the call, or a drop to recover from.
   * @param {number} code
   * @param {string} reason
   */
  closed(code, reason) {
    const final = ['ended', 'ejected', 'left', 'replaced by a new connection', 'the room has ended'];
    if (this.finished || !this.joined || final.includes(reason) || code === 1008) {
      this.finished = true;
      this.emit('closed', { code, reason });
      return;
    }
    const now = Date.now();
    this.droppedAt ??= now;
    if (now - this.droppedAt > RECONNECT_FOR_MS) {
      this.finished = true;
      this.emit('closed', { code, reason: 'the connection was lost' });
      return;
    }
    this.attempt += 1;
    this.emit('reconnecting', { attempt: this.attempt });
    const delay = Math.min(500 * 2 ** (this.attempt - 1), 4000);
    setTimeout(() => this.connect(), delay);
  }

  /** Closes the socket now, as a network drop would (tests and page unload). */
  drop() {
    this.ws?.close();
  }

  /** @param {object} msg */
  send(msg) {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** @param {string} sdp */
  offer(sdp) {
    return this.send({ type: 'offer', sdp });
  }

  /** @param {string} sdp */
  answer(sdp) {
    return this.send({ type: 'answer', sdp });
  }

  /**
   * @param {'audio' | 'video'} kind
   * @param {boolean} muted
   */
  mute(kind, muted) {
    return this.send({ type: 'mute', kind, muted });
  }

  /** @param {boolean} audioOnly */
  prefer(audioOnly) {
    return this.send({ type: 'prefer', audio_only: audioOnly });
  }

  /**
   * The size at which this client shows a participant's video (its simulcast layer).
   * @param {string} participant
   * @param {number} width CSS pixels
   * @param {number} height CSS pixels
   */
  view(participant, width, height) {
    return this.send({ type: 'view', participant, width, height });
  }

  /** @param {string} participant */
  eject(participant) {
    return this.send({ type: 'eject', participant });
  }

  /** A chat message to everyone in the call. @param {string} text */
  chat(text) {
    return this.send({ type: 'chat', text });
  }

  /** (A clinician) keeps the chat with the consultation's record. */
  chatKeep() {
    return this.send({ type: 'chat_keep' });
  }

  end() {
    return this.send({ type: 'end' });
  }

  leave() {
    this.finished = true;
    return this.send({ type: 'leave' });
  }

  ping() {
    return this.send({ type: 'ping' });
  }
}

/** The `/ws` address on this page's origin. */
export function socketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}
