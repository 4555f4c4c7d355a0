// Platforms ("linux/amd64", "linux/arm/v7") and choosing one from an image index.
import { PortcullisError } from '../errors.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export class PlatformError extends PortcullisError<'PLATFORM_INVALID'> {
  constructor(message: string) {
    super('PLATFORM_INVALID', message);
  }
}

const PART = /^[a-z0-9_.-]{1,32}$/;

// Parses "os/architecture[/variant]"; throws PlatformError otherwise.
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => PART.test(p))) {
    throw new PlatformError(`expected a platform like "linux/amd64" or "linux/arm/v7", got "${s}"`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant !== undefined ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

const SHARED_PLATFORMS_MAX = 64;
const shared = new Map<string, Platform>();

/** One object per platform for what caches keep (an image's platform repeats across images); at most 64 kept. */
export function sharedPlatform(os: string, architecture: string, variant?: string): Platform {
  const p: Platform = variant ? { os, architecture, variant } : { os, architecture };
  const key = formatPlatform(p);
  const known = shared.get(key);
  if (known) return known;
  if (shared.size < SHARED_PLATFORMS_MAX) shared.set(key, Object.freeze(p));
  return p;
}

// The variant a runtime assumes when an index entry names none.
function defaultVariant(architecture: string): string | undefined {
  if (architecture === 'arm64') return 'v8';
  if (architecture === 'arm') return 'v7';
  return undefined;
}

// Whether an index entry's platform serves the wanted one (variant compared only when asked for).
export function platformMatches(want: Platform, have: Platform): boolean {
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  if (!want.variant) return true;
  const haveVariant = have.variant || defaultVariant(have.architecture);
  return want.variant === haveVariant;
}

// Index of the best entry for `want`, or -1: exact variant match first, then the first that matches.
export function choosePlatform(want: Platform, candidates: ReadonlyArray<Platform | undefined>): number {
  let first = -1;
  for (let i = 0; i < candidates.length; i++) {
    const have = candidates[i];
    if (!have || !platformMatches(want, have)) continue;
    if ((have.variant || undefined) === (want.variant || undefined)) return i;
    if (first === -1) first = i;
  }
  return first;
}
