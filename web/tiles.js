// Remote tiles: one per participant (the server's stream ids are participant ids, "p2"),
// with their mute state, the active speaker, a weak connection, and, for the host, a
// button that removes them from the call. Each tile's size goes to the server, which
// sends the smallest simulcast layer that fills it.

/** @typedef {import('./protocol.js').Participant} Participant */

/** "p3" → "Participant 3". @param {string} id */
export function label(id) {
  return `Participant ${id.replace(/^p/, '')}`;
}

/** A group participant's name as the server lets this client see it, else the label. @param {Participant} p */
export function nameOf(p) {
  return p.name || label(p.id);
}

/**
 * @typedef {object} Tile
 * @property {HTMLLIElement} item
 * @property {HTMLVideoElement} video
 * @property {HTMLElement} name
 * @property {HTMLElement} state
 * @property {Participant} participant
 * @property {'good' | 'fair' | 'poor'} connection the server's measure of their connection
 * @property {[number, number]} sent the size last reported to the server
 */

/** A tile must change by more than this fraction before its new size is reported. */
const RESIZE_STEP = 0.1;

export class Tiles {
  /**
   * @param {HTMLElement} list the `<ul>` of tiles (the local preview is its first item)
   * @param {(id: string) => void} eject called when the host removes someone
   * @param {(id: string, width: number, height: number) => void} view called when a
   *   participant's video is shown at a new size
   */
  constructor(list, eject, view) {
    this.list = list;
    this.eject = eject;
    this.view = view;
    this.resized = new ResizeObserver((entries) => {
      for (const entry of entries) this.measure(/** @type {HTMLVideoElement} */ (entry.target));
    });
    this.canEject = false;
    this.audioOnly = false;
    /** @type {Map<string, Tile>} */
    this.tiles = new Map();
    /** Media that arrived before its participant was listed. @type {Map<string, MediaStream>} */
    this.early = new Map();
  }

  /** Adds or updates a participant's tile. @param {Participant} p */
  upsert(p) {
    let tile = this.tiles.get(p.id);
    if (!tile) {
      tile = this.make(p);
      this.tiles.set(p.id, tile);
      this.list.append(tile.item);
      const early = this.early.get(p.id);
      this.early.delete(p.id);
      if (early) this.attach(p.id, early);
    }
    tile.participant = p;
    tile.name.textContent = `${nameOf(p)}${p.host ? ' (host)' : ''}`;
    this.render(tile);
  }

  /** @param {Participant} p @returns {Tile} */
  make(p) {
    const item = document.createElement('li');
    item.className = 'tile';
    item.dataset.participant = p.id;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute('aria-label', `${nameOf(p)}'s camera`);
    const name = document.createElement('p');
    name.className = 'tile-name';
    const state = document.createElement('p');
    state.className = 'tile-state';
    item.append(video, name, state);
    if (this.canEject && !p.host) {
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'warning';
      remove.textContent = `Remove ${nameOf(p)}`;
      remove.addEventListener('click', () => {
        remove.disabled = true;
        this.eject(p.id);
      });
      item.append(remove);
    }
    this.resized.observe(video);
    return { item, video, name, state, participant: p, connection: 'good', sent: [-1, -1] };
  }

  /** Reports a tile's new size when it changed enough to matter. @param {HTMLVideoElement} video */
  measure(video) {
    const id = video.closest('li')?.dataset.participant;
    const tile = id ? this.tiles.get(id) : undefined;
    if (!id || !tile) return;
    const width = Math.round(video.clientWidth);
    const height = Math.round(video.clientHeight);
    const [w0, h0] = tile.sent;
    const moved = (/** @type {number} */ a, /** @type {number} */ b) =>
      (a === 0) !== (b === 0) || Math.abs(a - b) > RESIZE_STEP * Math.max(a, b);
    if (!moved(width, w0) && !moved(height, h0)) return;
    tile.sent = [width, height];
    this.view(id, width, height);
  }

  /** @param {Tile} tile */
  render(tile) {
    const p = tile.participant;
    const notes = [];
    if (!p.connected) notes.push('reconnecting…');
    if (p.audio_muted) notes.push('microphone off');
    if (p.video_muted) notes.push('camera off');
    if (p.audio_only) notes.push('audio only');
    if (tile.connection === 'poor') notes.push('weak connection');
    tile.state.textContent = notes.join(', ');
    tile.item.dataset.connected = String(p.connected);
    tile.video.classList.toggle('hidden-video', this.audioOnly || p.video_muted);
  }

  /**
   * A participant's media arrived (audio and video share the stream).
   * @param {string} id
   * @param {MediaStream} stream
   */
  attach(id, stream) {
    const tile = this.tiles.get(id);
    if (!tile) {
      this.early.set(id, stream);
      return;
    }
    if (tile.video.srcObject !== stream) tile.video.srcObject = stream;
    tile.video.play().catch(() => {});
  }

  /**
   * @param {string} id
   * @param {'audio' | 'video'} kind
   * @param {boolean} muted
   */
  setMuted(id, kind, muted) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    if (kind === 'audio') tile.participant.audio_muted = muted;
    else tile.participant.video_muted = muted;
    this.render(tile);
  }

  /** Hides (or shows again) every remote video; sound continues. @param {boolean} on */
  setAudioOnly(on) {
    this.audioOnly = on;
    for (const tile of this.tiles.values()) this.render(tile);
  }

  /** Marks who is speaking (nobody when `id` is not a remote participant). @param {string} id */
  setSpeaker(id) {
    for (const [other, tile] of this.tiles) tile.item.classList.toggle('speaking', other === id);
  }

  /**
   * @param {string} id
   * @param {'good' | 'fair' | 'poor'} level
   */
  setConnection(id, level) {
    const tile = this.tiles.get(id);
    if (!tile || tile.connection === level) return;
    tile.connection = level;
    this.render(tile);
  }

  /** Sizes are reported again after a reconnection: the server may have lost them. */
  resendSizes() {
    for (const tile of this.tiles.values()) {
      tile.sent = [-1, -1];
      this.measure(tile.video);
    }
  }

  /** @param {string} id */
  remove(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    this.resized.unobserve(tile.video);
    // Someone sent back to the waiting room keeps their tracks (the server renegotiates
    // nothing on a change of stage): keep the stream for when they are admitted again.
    if (tile.video.srcObject instanceof MediaStream) this.early.set(id, tile.video.srcObject);
    tile.video.srcObject = null;
    tile.item.remove();
    this.tiles.delete(id);
  }

  clear() {
    for (const id of [...this.tiles.keys()]) this.remove(id);
    this.early.clear();
  }
}
