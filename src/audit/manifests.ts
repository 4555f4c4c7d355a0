// Reads Kubernetes manifests: files, directories and stdin; multi-document YAML, JSON and List kinds.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isNode, LineCounter, parseAllDocuments } from 'yaml';
import type { Document } from 'yaml';
import { isObject } from '../workload/k8s.js';
import type { JsonObject } from '../workload/k8s.js';

export class ManifestError extends Error {
  readonly code = 'MANIFEST_INVALID' as const;
}

export interface Manifest {
  readonly file: string;
  /** 0-based YAML document index in the file */
  readonly doc: number;
  /** 1-based line where the object starts */
  readonly line: number;
  readonly object: JsonObject;
  /** 1-based line of the node at this path inside the object (e.g. ['spec', 'containers', 0]), when found */
  readonly locate?: (path: readonly (string | number)[]) => number | undefined;
  /** the template a rendered document came from (helm template's "# Source: chart/templates/x.yaml") */
  readonly source?: string;
}

type Locator = (path: readonly (string | number)[]) => number | undefined;

// Finds the line of a path in a parsed document from the node's source range.
function locator(doc: Document, lineCounter: LineCounter, prefix: readonly (string | number)[]): Locator {
  return (path) => {
    const node: unknown = doc.getIn([...prefix, ...path], true);
    if (!isNode(node) || !node.range) return undefined;
    return lineCounter.linePos(node.range[0]).line;
  };
}

const EXTENSIONS = /\.(ya?ml|json)$/i;

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = join(path, entry.name);
      if (entry.isDirectory()) return filesUnder(full);
      return EXTENSIONS.test(entry.name) ? [full] : [];
    });
}

// Expands List kinds (kind: List, PodList, ...) into their items, each with its path in the document.
function expand(object: JsonObject, path: readonly (string | number)[] = []): Array<{ object: JsonObject; path: readonly (string | number)[] }> {
  if (typeof object.kind === 'string' && object.kind.endsWith('List') && Array.isArray(object.items)) {
    return object.items.flatMap((item, i) => (isObject(item) ? expand(item, [...path, 'items', i]) : []));
  }
  return [{ object, path }];
}

// Parses manifest text; throws ManifestError naming the file and line of a syntax error.
export function parseManifests(text: string, file: string): Manifest[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true });
  const out: Manifest[] = [];
  docs.forEach((doc, index) => {
    const err = doc.errors[0];
    if (err) throw new ManifestError(`${file}: line ${err.linePos?.[0]?.line ?? '?'}: ${err.message.split('\n')[0]}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (!isObject(value)) throw new ManifestError(`${file}: document ${index}: expected a Kubernetes object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
    const docLine = doc.contents ? lineCounter.linePos(doc.contents.range[0]).line : 1;
    const comment = [doc.commentBefore, doc.contents?.commentBefore].filter((c) => typeof c === 'string').join('\n');
    const source = /^\s*Source:\s*(\S.*?)\s*$/m.exec(comment)?.[1];
    for (const { object, path } of expand(value)) {
      const locate = locator(doc, lineCounter, path);
      const line = path.length === 0 ? docLine : (locate([]) ?? docLine);
      out.push({ file, doc: index, line, object, locate, ...(source ? { source } : {}) });
    }
  });
  return out;
}

// Reads every manifest under these paths ('-' is stdin).
export function readManifests(paths: readonly string[], stdin: () => string): Manifest[] {
  return paths.flatMap((path) => {
    if (path === '-') return parseManifests(stdin(), '<stdin>');
    let files: string[];
    try {
      files = filesUnder(path);
    } catch (err) {
      throw new ManifestError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    return files.flatMap((file) => parseManifests(readFileSync(file, 'utf8'), file));
  });
}
