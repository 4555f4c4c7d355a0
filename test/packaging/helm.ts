// Helm for the packaging tests: the binary scripts/go-tools.sh builds, and `helm template` parsed into objects.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './dockerfile.js';

export const CHART = join(REPO_ROOT, 'charts', 'portcullis');
export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

export function toolsBin(): string {
  return join(process.env.PORTCULLIS_TOOLS ?? join(homedir(), '.cache', 'portcullis', 'tools'), 'bin');
}

export const HELM = process.env.HELM ?? join(toolsBin(), 'helm');
export const haveHelm = existsSync(HELM);

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  const res = spawnSync(HELM, args, {
    encoding: 'utf8',
    input: opts.input,
    timeout: 120_000,
    env: { ...process.env, HELM_CACHE_HOME: join(REPO_ROOT, 'node_modules', '.cache', 'helm'), ...opts.env },
  });
  return { code: res.status ?? 1, stdout: res.stdout ?? '', stderr: res.stderr ?? String(res.error ?? '') };
}

/** --set values (helm types them: true/false and integers become booleans and numbers) */
export type Values = Record<string, string>;

/** The Kubernetes version helm renders for (a source-built helm defaults to v1.20): the e2e control plane's. */
export const KUBE_VERSION = '1.37.2';

export function valueFlags(values: Values = {}): string[] {
  return Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
}

// `helm template` as text; throws with helm's message when rendering fails.
export function templateText(values: Values = {}, release = 'portcullis', namespace = 'portcullis', extra: string[] = []): string {
  const res = helm(['template', release, CHART, '--namespace', namespace, '--kube-version', KUBE_VERSION, ...valueFlags(values), ...extra]);
  if (res.code !== 0) throw new Error(`helm template failed: ${res.stderr}`);
  return res.stdout;
}

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

export function template(values: Values = {}, release = 'portcullis', namespace = 'portcullis', extra: string[] = []): K8sObject[] {
  return parseObjects(templateText(values, release, namespace, extra));
}

export function find(objects: readonly K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function one(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, got ${found.length}`);
  return found[0] as K8sObject;
}
