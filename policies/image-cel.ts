// An image reference in CEL, for the fail-safe rules of the image policies: validity with the grammar of
// src/images/reference.ts (its patterns are RE2 too), the tag, and the normalized registry/repository. A one-element
// list's map() names an intermediate value once (CEL has no let).
import { DEFAULT_REGISTRY, DIGEST_PATTERN, DOMAIN_PATTERN, NAME_PATTERN, REFERENCE_PATTERN } from '../src/images/reference.js';

const IMAGE = 'container.image';
const quote = (s: string): string => JSON.stringify(s);

/** ":tag" when the image has a tag, else "" (a tag is the last ":" part of the undigested image, with no "/"). */
export const IMAGE_TAG_PART = `${IMAGE}.find('^[^@]*').find(':[^:/]*$')`;

/** The image's name as written, [registry/]repository (of a parsing image). */
const NAME = `${IMAGE}.find(${quote(`^${NAME_PATTERN}`)})`;

/** Whether the image parses: the grammar, a name of at most 255 characters, a digest registries accept. */
export const IMAGE_VALID = `(${IMAGE}.matches(${quote(REFERENCE_PATTERN)}) && size(${NAME}) <= 255 && (!${IMAGE}.contains('@') || ${IMAGE}.matches(${quote(`@${DIGEST_PATTERN.slice(1)}`)})))`;

/** Whether the image names a digest (when it parses). */
export const IMAGE_HAS_DIGEST = `${IMAGE}.contains('@')`;

// "first/" is a registry when it is a host and has a dot or a port, is localhost or an IPv6 literal, or has capitals.
const IS_HOST = `first.matches(${quote(`^${DOMAIN_PATTERN}/$`)}) && first.matches('[.:A-Z]|^localhost/$')`;
const REGISTRY_AND_PATH = `[${NAME}].map(name, [name.find('^[^/]*/')].map(first, ${IS_HOST} ? [first == 'index.docker.io/' ? '${DEFAULT_REGISTRY}' : first.substring(0, size(first) - 1), name.substring(size(first))] : ['${DEFAULT_REGISTRY}', name])[0])[0]`;

/** The normalized registry/repository of a parsing image (docker.io/library/nginx for "nginx"). */
export const IMAGE_REPOSITORY = `[${REGISTRY_AND_PATH}].map(rp, rp[0] + '/' + (rp[0] == '${DEFAULT_REGISTRY}' && !rp[1].contains('/') ? 'library/' : '') + rp[1])[0]`;
