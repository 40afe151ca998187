// The mail a suite's server sent, as the SMTP sink (tests/support/smtp.sh) wrote it:
// GATEHOUSE_TEST_MAILDIR holds one <n>.eml per message, with `X-Envelope-To:` first.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Undoes quoted-printable (soft line breaks and =XX), which long lines arrive in. */
function quotedPrintable(text) {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/** Every message to `address`, oldest first: { subject, text } (the whole decoded message). */
export function messagesTo(address) {
  const dir = process.env.GATEHOUSE_TEST_MAILDIR;
  if (!dir) throw new Error('GATEHOUSE_TEST_MAILDIR is not set: run the suites through scripts/test.sh');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.eml'))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .filter((raw) => raw.split(/\r?\n/).some((line) => line === `X-Envelope-To: ${address}`))
    .map((raw) => ({ subject: raw.match(/^Subject: (.*)$/m)?.[1] ?? '', text: quotedPrintable(raw) }));
}
