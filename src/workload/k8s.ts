// The Kubernetes pod fields portcullis reads, converted once from untrusted JSON into small typed values.
import { PortcullisError } from '../errors.js';

export interface Capabilities {
  readonly add: readonly string[];
  readonly drop: readonly string[];
}
/** seccompProfile and appArmorProfile: a type (RuntimeDefault, Localhost, Unconfined, ...) and a localhost profile. */
export interface Profile {
  readonly type: string;
  readonly localhostProfile?: string;
}
export interface SELinuxOptions {
  readonly type: string;
  readonly user: string;
  readonly role: string;
  readonly level: string;
}
export interface WindowsOptions {
  readonly hostProcess?: boolean;
  readonly runAsUserName?: string;
}
/** The fields pod and container security contexts share. */
export interface CommonSecurityContext {
  readonly runAsUser?: number;
  readonly runAsNonRoot?: boolean;
  readonly seccompProfile?: Profile;
  readonly appArmorProfile?: Profile;
  readonly seLinuxOptions?: SELinuxOptions;
  readonly windowsOptions?: WindowsOptions;
}
export interface SecurityContext extends CommonSecurityContext {
  readonly readOnlyRootFilesystem?: boolean;
  readonly capabilities?: Capabilities;
  readonly privileged?: boolean;
  readonly allowPrivilegeEscalation?: boolean;
  readonly procMount?: string;
}
export interface Sysctl {
  readonly name: string;
  readonly value: string;
}
export interface PodSecurityContext extends CommonSecurityContext {
  readonly sysctls: readonly Sysctl[];
}
export interface ContainerPort {
  readonly name?: string;
  readonly containerPort?: number;
  readonly hostPort?: number;
  readonly protocol?: string;
}
/** A probe or lifecycle handler: which actions it sets, and the `host` of its httpGet / tcpSocket. */
export interface Handler {
  readonly actions: readonly string[];
  readonly httpGetHost?: string;
  readonly tcpSocketHost?: string;
}
export interface Lifecycle {
  readonly postStart?: Handler;
  readonly preStop?: Handler;
}
/** Resource quantities as written (`"500m"`, `"1Gi"`, `2`), by resource name. */
export interface Resources {
  readonly limits: Readonly<Record<string, string>>;
  readonly requests: Readonly<Record<string, string>>;
}
export interface EnvVar {
  readonly name: string;
  /** the literal value, when the spec writes one */
  readonly value?: string;
  /** set from a Secret, ConfigMap, field or resource reference */
  readonly fromSource: boolean;
}
export interface Container {
  readonly name: string;
  readonly image: string;
  readonly securityContext?: SecurityContext;
  readonly ports: readonly ContainerPort[];
  readonly livenessProbe?: Handler;
  readonly readinessProbe?: Handler;
  readonly startupProbe?: Handler;
  readonly lifecycle?: Lifecycle;
  readonly resources: Resources;
  readonly env: readonly EnvVar[];
  /** init containers: Always makes a sidecar */
  readonly restartPolicy?: string;
}
export interface Volume {
  readonly name: string;
  /** the volume source's key (hostPath, emptyDir, nfs, ...); emptyDir when none is set (API defaulting) */
  readonly source: string;
  /** hostPath.path for hostPath volumes */
  readonly hostPath?: string;
}
export interface PodSpec {
  readonly os?: string;
  readonly hostUsers?: boolean;
  readonly hostNetwork?: boolean;
  readonly hostPID?: boolean;
  readonly hostIPC?: boolean;
  readonly restartPolicy?: string;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly securityContext?: PodSecurityContext;
  readonly serviceAccountName?: string;
  readonly imagePullSecrets: readonly string[];
  readonly volumes: readonly Volume[];
  readonly containers: readonly Container[];
  readonly initContainers: readonly Container[];
  readonly ephemeralContainers: readonly Container[];
}

export type WorkloadErrorCode = 'INVALID_FIELD';

export class WorkloadError extends PortcullisError<WorkloadErrorCode> {
  readonly path: string;
  constructor(path: string, expected: string, got: unknown) {
    super('INVALID_FIELD', `${path}: expected ${expected}, got ${describe(got)}`);
    this.path = path;
  }
}

/** What a JSON value is, for "expected X, got Y" messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Throws the WorkloadError of a field that is not of the expected JSON type.
function mistyped(path: string, key: string, expected: string, value: unknown): never {
  throw new WorkloadError(`${path}.${key}`, expected, value);
}

// The value at obj[key] when it has the type; undefined when absent or null; throws WorkloadError otherwise. One
// function per type, not one taking a test: the decoder's hottest calls stay monomorphic.
export function optionalString(obj: JsonObject, key: string, path: string): string | undefined {
  const v = obj[key];
  return typeof v === 'string' ? v : v == null ? undefined : mistyped(path, key, 'string', v);
}
export function optionalBool(obj: JsonObject, key: string, path: string): boolean | undefined {
  const v = obj[key];
  return typeof v === 'boolean' ? v : v == null ? undefined : mistyped(path, key, 'boolean', v);
}
export function optionalInt(obj: JsonObject, key: string, path: string): number | undefined {
  const v = obj[key];
  return typeof v === 'number' && Number.isInteger(v) ? v : v == null ? undefined : mistyped(path, key, 'integer', v);
}
export function optionalArray(obj: JsonObject, key: string, path: string): unknown[] | undefined {
  const v = obj[key];
  return Array.isArray(v) ? v : v == null ? undefined : mistyped(path, key, 'array', v);
}
export function optionalObject(obj: JsonObject, key: string, path: string): JsonObject | undefined {
  const v = obj[key];
  return isObject(v) ? v : v == null ? undefined : mistyped(path, key, 'object', v);
}

// Field paths are spelled out only to locate an error: a decode runs with them off (no string built per field),
// and one that throws runs again with them on, so that its WorkloadError names the exact field (withFieldPaths).
let spellPaths = false;

/** `path.key` while paths are spelled out, else the parent path as it is (nothing built). */
export function fieldPath(path: string, key: string): string {
  return spellPaths ? `${path}.${key}` : path;
}

/** Runs a decode with field paths off; when it throws a WorkloadError, runs it again with them on and throws that. */
export function withFieldPaths<T>(decode: () => T): T {
  if (spellPaths) return decode();
  try {
    return decode();
  } catch (err) {
    if (!(err instanceof WorkloadError)) throw err;
    spellPaths = true;
    try {
      return decode();
    } finally {
      spellPaths = false;
    }
  }
}

// The items of an optional array field, each converted by read (given its path).
export function list<T>(obj: JsonObject, key: string, path: string, read: (item: unknown, path: string) => T): T[] {
  const items = optionalArray(obj, key, path);
  if (!items) return [];
  const out = new Array<T>(items.length);
  for (let i = 0; i < items.length; i++) out[i] = read(items[i], spellPaths ? `${path}.${key}[${i}]` : path);
  return out;
}

const NO_STRINGS: readonly string[] = Object.freeze([]);

// The strings of an optional array field: the parsed JSON array itself once every item is a string (no copy).
export function stringList(obj: JsonObject, key: string, path: string): readonly string[] {
  const items = optionalArray(obj, key, path);
  if (!items) return NO_STRINGS;
  for (let i = 0; i < items.length; i++) if (typeof items[i] !== 'string') throw new WorkloadError(`${path}.${key}[${i}]`, 'string', items[i]);
  return items as string[];
}

// A map of strings (labels, annotations, nodeSelector); numbers are kept as written when allowNumbers. The parsed JSON
// object itself is returned when every value is already a string (no copy).
export function stringMap(obj: JsonObject, key: string, path: string, allowNumbers = false): Record<string, string> {
  const map = optionalObject(obj, key, path);
  if (!map) return {};
  let copy: Record<string, string> | undefined;
  for (const k in map) {
    const v = map[k];
    if (typeof v === 'string') continue;
    if (!allowNumbers || typeof v !== 'number') throw new WorkloadError(`${path}.${key}.${k}`, allowNumbers ? 'string or number' : 'string', v);
    copy ??= { ...(map as Record<string, string>) };
    copy[k] = String(v);
  }
  return copy ?? (map as Record<string, string>);
}
