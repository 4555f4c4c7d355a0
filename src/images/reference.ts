// Container image references, parsed with the distribution reference grammar
// (github.com/distribution/reference): [host[:port]/]path[:tag][@algorithm:hex].
import { PortcullisError } from '../errors.js';
import { BoundedMemo } from '../memo.js';

export type ReferenceErrorCode = 'REFERENCE_EMPTY' | 'REFERENCE_TOO_LONG' | 'REFERENCE_INVALID' | 'REFERENCE_UPPERCASE';

/** An image reference that does not parse (named so it does not shadow the global ReferenceError). */
export class ImageReferenceError extends PortcullisError<ReferenceErrorCode> {}

export interface ImageReference {
  /** the string as written in the pod spec */
  readonly original: string;
  /** registry host (with port), docker.io when the reference names none */
  readonly registry: string;
  /** repository path, with library/ added for official docker.io images */
  readonly repository: string;
  /** registry/repository: what image rules, caches and messages name */
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

export const DEFAULT_REGISTRY = 'docker.io';
const NAME_TOTAL_LENGTH_MAX = 255;

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const host = `(?:${domainName}|${ipv6})`;
const domain = `${host}(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const namePath = `${pathComponent}(?:/${pathComponent})*`;
/** A registry host with an optional port (the patterns are RE2 syntax too: the fail-safe's CEL uses them). */
export const DOMAIN_PATTERN = domain;
/** The name part of a reference: [registry/]repository. */
export const NAME_PATTERN = `(?:${domain}/)?${namePath}`;
/** The reference grammar, anchored. */
export const REFERENCE_PATTERN = `^(${NAME_PATTERN})(?::(${tag}))?(?:@(${digest}))?$`;
const referenceRe = new RegExp(REFERENCE_PATTERN);
const anchoredDomain = new RegExp(`^${domain}$`);

// Splits a name into registry and repository the way docker does: the first component is a registry
// when it has a dot or a port, or is "localhost" (or an IPv6 literal).
function splitName(name: string): { registry: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const isHost =
    first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[') || first !== first.toLowerCase());
  if (isHost && anchoredDomain.test(first)) {
    const registry = first === 'index.docker.io' ? DEFAULT_REGISTRY : first;
    const repository = name.slice(slash + 1);
    return { registry, repository: registry === DEFAULT_REGISTRY && !repository.includes('/') ? `library/${repository}` : repository };
  }
  return { registry: DEFAULT_REGISTRY, repository: name.includes('/') ? name : `library/${name}` };
}

/** Encoded lengths of the digest algorithms registries accept (lowercase hex). */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
/** The digests registries accept, as an anchored pattern: a known algorithm and its exact lowercase hex length. */
export const DIGEST_PATTERN = `^(?:${Object.entries(DIGEST_HEX_LENGTH).map(([algorithm, n]) => `${algorithm}:[a-f0-9]{${n}}`).join('|')})$`;

// Checks a digest the way distribution's digest package does: a known algorithm and its exact lowercase hex length.
function checkDigest(digest: string, input: string): void {
  const [algorithm = '', encoded = ''] = digest.split(':');
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) throw new ImageReferenceError('REFERENCE_INVALID', `expected a sha256, sha384 or sha512 digest, got "${algorithm}" in "${input}"`);
  if (encoded.length !== length || !/^[a-f0-9]+$/.test(encoded)) {
    throw new ImageReferenceError('REFERENCE_INVALID', `expected ${length} lowercase hex characters after ${algorithm}:, got "${encoded}"`);
  }
}

// Parses an image reference; throws ImageReferenceError with the reason when it does not follow the grammar.
export function parseReference(input: string): ImageReference {
  if (input.length === 0) throw new ImageReferenceError('REFERENCE_EMPTY', 'expected an image reference, got an empty string');
  const match = referenceRe.exec(input);
  if (!match) {
    const lower = input.toLowerCase();
    if (lower !== input && referenceRe.test(lower)) {
      throw new ImageReferenceError('REFERENCE_UPPERCASE', `expected a lowercase repository name, got "${input}"`);
    }
    throw new ImageReferenceError('REFERENCE_INVALID', `expected [registry/]repository[:tag][@digest], got "${input}"`);
  }
  const [, name = '', tagPart, digestPart] = match;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw new ImageReferenceError('REFERENCE_TOO_LONG', `expected a repository name of at most ${NAME_TOTAL_LENGTH_MAX} characters, got ${name.length}`);
  }
  if (digestPart !== undefined) checkDigest(digestPart, input);
  const { registry, repository } = splitName(name);
  if (repository !== repository.toLowerCase()) {
    throw new ImageReferenceError('REFERENCE_UPPERCASE', `expected a lowercase repository name, got "${repository}"`);
  }
  return {
    original: input,
    registry,
    repository,
    name: `${registry}/${repository}`,
    ...(tagPart !== undefined ? { tag: tagPart } : {}),
    ...(digestPart !== undefined ? { digest: digestPart } : {}),
  };
}

// The canonical form, registry/repository[:tag][@digest].
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

const memo = new BoundedMemo<string, ImageReference | ImageReferenceError>(4096);

/**
 * The parsed reference of an image string, or the error that says why it does not parse: parsed once per distinct
 * string (a bounded cache, cleared when full), so every policy reading the same image shares one parse.
 */
export function referenceOf(input: string): ImageReference | ImageReferenceError {
  let parsed = memo.get(input);
  if (parsed !== undefined) return parsed;
  try {
    parsed = Object.freeze(parseReference(input));
  } catch (err) {
    if (!(err instanceof ImageReferenceError)) throw err;
    parsed = err;
  }
  return memo.set(input, parsed);
}
