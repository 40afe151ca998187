// RFC 6238 codes computed the way an authenticator app does (HMAC-SHA-1, six digits, 30-second
// steps), from the base32 key Gatehouse's set-up page prints: the JavaScript suites' own
// implementation, independent of the server's.

import { createHmac } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (spaces, padding and case ignored) to bytes. */
export function base32Decode(text) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const index = ALPHABET.indexOf(c);
    if (index < 0) throw new Error(`not base32: ${c}`);
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 30-second step a time (ms since the epoch) falls in. */
export function stepAt(ms = Date.now()) {
  return Math.floor(ms / 1000 / 30);
}

/** The six-digit code for `key` in time step `step` (RFC 4226 dynamic truncation). */
export function totp(key, step = stepAt()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(key)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 1_000_000).padStart(6, '0');
}

// RFC 6238 Appendix B (SHA-1): the seed "12345678901234567890" at T = 59 s gives 94287082,
// whose last six digits an app shows. Checked on import, so a broken helper fails loudly.
if (totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1) !== '287082') {
  throw new Error('the RFC 6238 helper does not reproduce the RFC test vector');
}
