// The few Kubernetes pod fields portcullis reads, converted once from untrusted JSON into small typed values.

export interface Capabilities {
  readonly add: readonly string[];
  readonly drop: readonly string[];
}

export interface SecurityContext {
  readonly runAsUser?: number;
  readonly runAsNonRoot?: boolean;
  readonly readOnlyRootFilesystem?: boolean;
  readonly capabilities?: Capabilities;
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly securityContext?: SecurityContext;
}

export interface PodSecurityContext {
  readonly runAsUser?: number;
  readonly runAsNonRoot?: boolean;
}

export interface PodSpec {
  readonly os?: string;
  readonly hostUsers?: boolean;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly securityContext?: PodSecurityContext;
  readonly serviceAccountName?: string;
  readonly imagePullSecrets: readonly string[];
  readonly containers: readonly Container[];
  readonly initContainers: readonly Container[];
  readonly ephemeralContainers: readonly Container[];
}

export type WorkloadErrorCode = 'INVALID_FIELD';

export class WorkloadError extends Error {
  readonly code: WorkloadErrorCode;
  readonly path: string;
  constructor(path: string, expected: string, got: unknown) {
    super(`${path}: expected ${expected}, got ${describe(got)}`);
    this.name = 'WorkloadError';
    this.code = 'INVALID_FIELD';
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

function optional<T>(obj: JsonObject, key: string, path: string, expected: string, test: (v: unknown) => v is T): T | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (!test(value)) throw new WorkloadError(`${path}.${key}`, expected, value);
  return value;
}

const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isString = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);

function optionalObject(obj: JsonObject, key: string, path: string): JsonObject | undefined {
  return optional(obj, key, path, 'object', isObject);
}

function stringList(obj: JsonObject, key: string, path: string): string[] {
  const list = optional(obj, key, path, 'array', isArray) ?? [];
  return list.map((item, i) => {
    if (!isString(item)) throw new WorkloadError(`${path}.${key}[${i}]`, 'string', item);
    return item;
  });
}

function readCapabilities(obj: JsonObject, path: string): Capabilities {
  return { add: stringList(obj, 'add', path), drop: stringList(obj, 'drop', path) };
}

function readSecurityContext(obj: JsonObject, path: string): SecurityContext {
  const caps = optionalObject(obj, 'capabilities', path);
  return {
    runAsUser: optional(obj, 'runAsUser', path, 'integer', isInt),
    runAsNonRoot: optional(obj, 'runAsNonRoot', path, 'boolean', isBool),
    readOnlyRootFilesystem: optional(obj, 'readOnlyRootFilesystem', path, 'boolean', isBool),
    ...(caps ? { capabilities: readCapabilities(caps, `${path}.capabilities`) } : {}),
  };
}

function readContainer(value: unknown, path: string): Container {
  if (!isObject(value)) throw new WorkloadError(path, 'object', value);
  const sc = optionalObject(value, 'securityContext', path);
  return {
    name: optional(value, 'name', path, 'string', isString) ?? '',
    image: optional(value, 'image', path, 'string', isString) ?? '',
    ...(sc ? { securityContext: readSecurityContext(sc, `${path}.securityContext`) } : {}),
  };
}

function readContainers(spec: JsonObject, key: string, path: string): Container[] {
  const list = optional(spec, key, path, 'array', isArray) ?? [];
  return list.map((c, i) => readContainer(c, `${path}.${key}[${i}]`));
}

function readNodeSelector(spec: JsonObject, path: string): Record<string, string> {
  const sel = optionalObject(spec, 'nodeSelector', path) ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(sel)) {
    if (!isString(v)) throw new WorkloadError(`${path}.nodeSelector.${k}`, 'string', v);
    out[k] = v;
  }
  return out;
}

function readPullSecrets(spec: JsonObject, path: string): string[] {
  const list = optional(spec, 'imagePullSecrets', path, 'array', isArray) ?? [];
  return list.flatMap((s, i) => {
    if (!isObject(s)) throw new WorkloadError(`${path}.imagePullSecrets[${i}]`, 'object', s);
    const name = optional(s, 'name', `${path}.imagePullSecrets[${i}]`, 'string', isString);
    return name ? [name] : [];
  });
}

// Converts a pod spec from JSON into a PodSpec; throws WorkloadError naming the first mistyped field.
export function readPodSpec(value: unknown, path: string): PodSpec {
  if (!isObject(value)) throw new WorkloadError(path, 'object', value);
  const psc = optionalObject(value, 'securityContext', path);
  const os = optionalObject(value, 'os', path);
  return {
    os: os ? optional(os, 'name', `${path}.os`, 'string', isString) : undefined,
    hostUsers: optional(value, 'hostUsers', path, 'boolean', isBool),
    nodeSelector: readNodeSelector(value, path),
    ...(psc
      ? {
          securityContext: {
            runAsUser: optional(psc, 'runAsUser', `${path}.securityContext`, 'integer', isInt),
            runAsNonRoot: optional(psc, 'runAsNonRoot', `${path}.securityContext`, 'boolean', isBool),
          },
        }
      : {}),
    serviceAccountName: optional(value, 'serviceAccountName', path, 'string', isString),
    imagePullSecrets: readPullSecrets(value, path),
    containers: readContainers(value, 'containers', path),
    initContainers: readContainers(value, 'initContainers', path),
    ephemeralContainers: readContainers(value, 'ephemeralContainers', path),
  };
}
