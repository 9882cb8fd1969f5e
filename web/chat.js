// The call's chat panel (pages/call.rs, `#chat`): messages shown as plain text only
// (textContent; web addresses are never links and carry a warning about phishing), the
// message box (Enter sends, Shift+Enter a new line), the clinician's "save to the record"
// and, when the organisation allows files, sharing and downloading them with the key the
// server gives this client. Knows the DOM; the wire is protocol.js's.

/** @typedef {import('./protocol.js').Signal} Signal */
/** @typedef {import('./protocol.js').ChatMessage} ChatMessage */

/** Refusals that concern the chat: shown beside the message box, not as call problems. */
export const CHAT_ERRORS = new Set([
  'chat_empty', 'chat_too_long', 'chat_rate_limited', 'chat_full', 'not_in_call', 'not_allowed', 'save_failed',
]);

const LINK_WARNING =
  'This message contains a web address. Haven never makes it a link. Do not open it or give personal ' +
  'details unless you are sure who sent it and why: fraudsters copy messages like these.';

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T | null}
 */
function optional(id, type) {
  const el = document.getElementById(id);
  return el instanceof type ? el : null;
}

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} text
 */
function el(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

export class ChatPanel {
  /**
   * @param {HTMLElement} root the `#chat` section
   * @param {Signal} signal
   */
  constructor(root, signal) {
    this.root = root;
    this.signal = signal;
    this.log = /** @type {HTMLElement} */ (root.querySelector('#chat-list'));
    this.form = /** @type {HTMLFormElement} */ (root.querySelector('#chat-form'));
    this.text = /** @type {HTMLTextAreaElement} */ (root.querySelector('#chat-text'));
    this.error = /** @type {HTMLElement} */ (root.querySelector('#chat-error'));
    this.kept = /** @type {HTMLElement} */ (root.querySelector('#chat-kept'));
    this.keep = optional('chat-keep', HTMLButtonElement);
    this.fileBox = optional('chat-files', HTMLElement);
    this.file = optional('chat-file', HTMLInputElement);
    this.share = optional('chat-share', HTMLButtonElement);
    /** The key for files, once the server gives one. @type {string | null} */
    this.fileKey = null;
    /** This client's participant id, once joined. @type {string | null} */
    this.me = null;
    /** The text last sent, put back if the server refuses it. */
    this.pending = '';
    this.wire();
  }

  wire() {
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.send();
    });
    this.text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    this.keep?.addEventListener('click', () => this.signal.chatKeep());
    this.share?.addEventListener('click', () => void this.upload());
    const s = this.signal;
    s.on('chat', (m) => this.show(m));
    s.on('chat_kept', ({ saved, text }) => {
      this.kept.textContent = text;
      this.kept.hidden = false;
      if (this.keep) {
        this.keep.disabled = true;
        this.keep.textContent = 'This chat will be saved to the record';
        const status = document.getElementById('chat-keep-status');
        if (status) {
          status.textContent = `Saved so far: ${saved} message${saved === 1 ? '' : 's'}. ` +
            'The rest is saved when the consultation ends.';
        }
      }
    });
    s.on('chat_files', ({ key }) => {
      this.fileKey = key;
      if (this.fileBox) this.fileBox.hidden = false;
    });
  }

  /** Shows or hides the panel (only people in the call chat). @param {boolean} on */
  setVisible(on) {
    this.root.hidden = !on;
  }

  /** A refusal from the server, beside the box. @param {string} message */
  refused(message) {
    this.error.textContent = `Not sent: ${message}.`;
    this.error.hidden = false;
    if (this.pending && !this.text.value) this.text.value = this.pending;
    this.pending = '';
  }

  send() {
    const text = this.text.value;
    this.error.hidden = true;
    this.pending = text;
    this.text.value = '';
    this.signal.chat(text);
  }

  /** @param {ChatMessage} m */
  show(m) {
    if (m.from === this.me) this.pending = '';
    const item = document.createElement('li');
    item.className = 'chat-message';
    const time = new Date(m.sent_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    item.append(el('p', 'chat-meta', `${m.name}, ${time}`));
    item.append(el('p', 'chat-text', m.text));
    if (m.link) item.append(el('p', 'chat-warning', LINK_WARNING));
    if (m.file) {
      const { id, name, bytes } = m.file;
      const button = el('button', 'secondary', `Download ${name} (${Math.ceil(bytes / 1024)} KB)`);
      button.setAttribute('type', 'button');
      button.addEventListener('click', () => void this.download(id, name));
      item.append(button);
    }
    this.log.append(item);
    item.scrollIntoView({ block: 'nearest' });
  }

  async upload() {
    const file = this.file?.files?.[0];
    if (!this.fileKey) return;
    if (!file) {
      // Said beside the box: a button that silently does nothing leaves someone using a
      // keyboard or a screen reader guessing.
      this.error.textContent = 'Not shared: choose a file first.';
      this.error.hidden = false;
      return;
    }
    this.error.hidden = true;
    const res = await fetch('/calls/files', {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.fileKey}`, 'X-File-Name': encodeURIComponent(file.name) },
      body: file,
    });
    if (!res.ok) {
      const body = await res.json().catch(() => ({ message: 'the file could not be shared' }));
      this.error.textContent = `Not shared: ${body.message}.`;
      this.error.hidden = false;
    } else if (this.file) {
      this.file.value = '';
    }
  }

  /** @param {string} id @param {string} name */
  async download(id, name) {
    if (!this.fileKey) return;
    const res = await fetch(`/calls/files/${encodeURIComponent(id)}`, {
      headers: { Authorization: `Bearer ${this.fileKey}` },
    });
    if (!res.ok) {
      this.error.textContent = 'That file can no longer be downloaded.';
      this.error.hidden = false;
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}
