// What makes a literal value look like a credential: a well-known token format, or a high-entropy value under a
// credential-like name. Returns what it looks like, never the value.
import { BoundedMemo } from '../../src/memo.js';

const FORMATS: ReadonlyArray<readonly [string, RegExp]> = [
  ['a private key', /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/],
  ['an AWS access key ID', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['a GitHub token', /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/],
  ['a GitLab token', /\bglpat-[A-Za-z0-9_-]{20,}/],
  ['a Slack token', /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
  ['a Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['a Stripe secret key', /\b[sr]k_live_[0-9A-Za-z]{24,}\b/],
  ['an npm token', /\bnpm_[A-Za-z0-9]{36}\b/],
  ['a JSON Web Token', /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/],
  ['a URL with a password', /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i],
];

/** Names that hold credentials: *_PASSWORD, *_TOKEN, *_SECRET, *_KEY, ... (not *_PUBLIC_KEY). */
const CREDENTIAL_NAME = /(?:^|_)(?:PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|KEY|APIKEY|CREDENTIALS?|AUTH)$/i;
const NOT_CREDENTIAL_NAME = /PUBLIC|(?:^|_)(?:KEY_?ID|KEYRING)$/i;

const MIN_LENGTH = 8;
const MIN_ENTROPY = 3;

// Shannon entropy of the value's characters, in bits per character.
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

// Values that are not secrets even under a credential name: references, paths, booleans, numbers, placeholders.
function placeholder(value: string): boolean {
  return /^\$\(.+\)$|^\$\{.+\}$|^\/|^(?:true|false|yes|no|none|null|changeme|redacted)$|^[0-9.]+$|^<.*>$/i.test(value);
}

/** the longest value whose absence of a token format is remembered */
const REMEMBERED_LENGTH = 256;
/** values in no token format, the last 1024 (the Pods of one template repeat their env; credentials are not kept) */
const NO_FORMAT = new BoundedMemo<string, true>(1024);

// The well-known token format the value is in, or undefined.
function formatOf(value: string): string | undefined {
  const short = value.length <= REMEMBERED_LENGTH;
  if (short && NO_FORMAT.get(value)) return undefined;
  for (const [kind, re] of FORMATS) if (re.test(value)) return kind;
  if (short) NO_FORMAT.set(value, true);
  return undefined;
}

/** What the value looks like ("a GitHub token", "a password"), or undefined when it does not look like a secret. */
export function secretKind(name: string, value: string): string | undefined {
  const format = formatOf(value);
  if (format) return format;
  if (!CREDENTIAL_NAME.test(name) || NOT_CREDENTIAL_NAME.test(name)) return undefined;
  if (value.length < MIN_LENGTH || placeholder(value) || entropy(value) < MIN_ENTROPY) return undefined;
  const what = /PASS|PWD/i.test(name) ? 'a password' : /TOKEN|AUTH/i.test(name) ? 'a token' : 'a key or secret';
  return `${what} (a high-entropy value under a credential name)`;
}
