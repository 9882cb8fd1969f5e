// RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30-second steps), as an authenticator app computes
// it, with nothing but node's crypto.
import { createHmac } from 'node:crypto';

export const STEP_SECONDS = 30;

/** Decodes RFC 4648 base32 (upper or lower case; spaces and padding ignored). */
export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const index = alphabet.indexOf(ch);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 HOTP of `counter` with the raw `key`. */
export function hotp(key, counter, digits = 6) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The 30-second step that `ms` (milliseconds since the epoch) falls in. */
export function stepAt(ms = Date.now()) {
  return Math.floor(ms / 1000 / STEP_SECONDS);
}

/** The code for a base32 secret at time `ms`. */
export function totp(secretBase32, ms = Date.now(), digits = 6) {
  return hotp(base32Decode(secretBase32), stepAt(ms), digits);
}

/** Milliseconds until the next step begins. */
export function msUntilNextStep(ms = Date.now()) {
  return (stepAt(ms) + 1) * STEP_SECONDS * 1000 - ms;
}
