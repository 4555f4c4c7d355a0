// Reads Kubernetes manifests: files, directories and stdin; multi-document YAML, JSON and List kinds.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { isNode, LineCounter, parseAllDocuments } from 'yaml';
import type { Document } from 'yaml';
import { isObject } from '../workload/k8s.js';
import type { JsonObject } from '../workload/k8s.js';
import { PortcullisError } from '../errors.js';

/** MANIFEST_INVALID: unreadable or not YAML/JSON; HELM_CHART: a chart directory; MANIFEST_EMPTY: no manifest file. */
export type ManifestErrorCode = 'MANIFEST_INVALID' | 'HELM_CHART' | 'MANIFEST_EMPTY';

export class ManifestError extends PortcullisError<ManifestErrorCode> {
  constructor(message: string, code: ManifestErrorCode = 'MANIFEST_INVALID') {
    super(code, message);
  }
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

// Files to read under a path; a Helm chart (a directory with Chart.yaml) is refused with how to render it.
function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  if (existsSync(join(path, 'Chart.yaml'))) {
    throw new ManifestError(`${path}: a Helm chart, not manifests: render it first, e.g. helm template ${path} | portcullis audit -f -`, 'HELM_CHART');
  }
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

// Every syntax error of a document, whole (the yaml parser's message shows the offending line and a caret).
function yamlErrors(file: string, doc: Document): string {
  return doc.errors.map((err) => `${file}:${err.linePos?.[0]?.line ?? '?'}: ${err.message.trimEnd()}`).join('\n');
}

// Parses manifest text; throws ManifestError naming the file and line of a syntax error.
export function parseManifests(text: string, file: string): Manifest[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true });
  const out: Manifest[] = [];
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) throw new ManifestError(yamlErrors(file, doc));
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

// The chart directory a file sits in (a Chart.yaml in one of its parent directories), if any.
function chartOf(file: string): string | undefined {
  let dir = dirname(resolve(file));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) if (existsSync(join(dir, 'Chart.yaml'))) return dir;
  return undefined;
}

// Parses one file; a template of a Helm chart that does not parse is refused with how to render the chart.
function parseFile(file: string): Manifest[] {
  try {
    return parseManifests(readFileSync(file, 'utf8'), file);
  } catch (err) {
    const chart = err instanceof ManifestError ? chartOf(file) : undefined;
    if (!chart) throw err;
    const shown = relative(process.cwd(), chart).startsWith('..') ? chart : relative(process.cwd(), chart) || '.';
    throw new ManifestError(`${file}: a template of the Helm chart ${shown}: render it first, e.g. helm template ${shown} | portcullis audit -f -\n${(err as Error).message}`, 'HELM_CHART');
  }
}

export interface ReadOptions {
  /** a directory with no manifest file is not an error */
  readonly allowEmpty?: boolean;
}

// Reads every manifest under these paths ('-' is stdin); throws ManifestError with a code.
export function readManifests(paths: readonly string[], stdin: () => string, options: ReadOptions = {}): Manifest[] {
  return paths.flatMap((path) => {
    if (path === '-') return parseManifests(stdin(), '<stdin>');
    let files: string[];
    try {
      files = filesUnder(path);
    } catch (err) {
      if (err instanceof ManifestError) throw err;
      throw new ManifestError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    if (files.length === 0 && !options.allowEmpty) throw new ManifestError(`${path}: no .yaml, .yml or .json file to check`, 'MANIFEST_EMPTY');
    return files.flatMap(parseFile);
  });
}
