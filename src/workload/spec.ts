// Converts a pod spec from JSON into a typed PodSpec: containers, volumes, security contexts.
import type { Container, ContainerPort, EnvVar, Handler, Lifecycle, PodSpec, Resources, Volume } from './k8s.js';
import { isBool, isInt, isObject, isString, list, optional, optionalObject, stringMap, WorkloadError } from './k8s.js';
import type { JsonObject } from './k8s.js';
import { readPodSecurityContext, readSecurityContext } from './security.js';

function objectAt(value: unknown, path: string): JsonObject {
  if (!isObject(value)) throw new WorkloadError(path, 'object', value);
  return value;
}

function readPort(item: unknown, path: string): ContainerPort {
  const port = objectAt(item, path);
  return {
    name: optional(port, 'name', path, 'string', isString),
    containerPort: optional(port, 'containerPort', path, 'integer', isInt),
    hostPort: optional(port, 'hostPort', path, 'integer', isInt),
    protocol: optional(port, 'protocol', path, 'string', isString),
  };
}

const HANDLER_ACTIONS = ['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'];

// A probe or lifecycle handler: the actions it sets and the host of httpGet / tcpSocket.
function readHandler(obj: JsonObject, path: string): Handler {
  const httpGet = optionalObject(obj, 'httpGet', path);
  const tcpSocket = optionalObject(obj, 'tcpSocket', path);
  const httpGetHost = httpGet ? optional(httpGet, 'host', `${path}.httpGet`, 'string', isString) : undefined;
  const tcpSocketHost = tcpSocket ? optional(tcpSocket, 'host', `${path}.tcpSocket`, 'string', isString) : undefined;
  return {
    actions: HANDLER_ACTIONS.filter((a) => isObject(obj[a])),
    ...(httpGetHost !== undefined ? { httpGetHost } : {}),
    ...(tcpSocketHost !== undefined ? { tcpSocketHost } : {}),
  };
}

function handlerAt(obj: JsonObject, key: string, path: string): { [k: string]: Handler } {
  const value = optionalObject(obj, key, path);
  return value ? { [key]: readHandler(value, `${path}.${key}`) } : {};
}

function readLifecycle(obj: JsonObject, path: string): Lifecycle {
  return { ...handlerAt(obj, 'postStart', path), ...handlerAt(obj, 'preStop', path) };
}

function readResources(obj: JsonObject | undefined, path: string): Resources {
  if (!obj) return { limits: {}, requests: {} };
  return { limits: stringMap(obj, 'limits', path, true), requests: stringMap(obj, 'requests', path, true) };
}

function readEnv(item: unknown, path: string): EnvVar {
  const env = objectAt(item, path);
  const value = optional(env, 'value', path, 'string', isString);
  return { name: optional(env, 'name', path, 'string', isString) ?? '', ...(value !== undefined ? { value } : {}), fromSource: isObject(env.valueFrom) };
}

function readContainer(value: unknown, path: string): Container {
  const c = objectAt(value, path);
  const sc = optionalObject(c, 'securityContext', path);
  const lifecycle = optionalObject(c, 'lifecycle', path);
  const restartPolicy = optional(c, 'restartPolicy', path, 'string', isString);
  return {
    name: optional(c, 'name', path, 'string', isString) ?? '',
    image: optional(c, 'image', path, 'string', isString) ?? '',
    ...(sc ? { securityContext: readSecurityContext(sc, `${path}.securityContext`) } : {}),
    ports: list(c, 'ports', path, readPort),
    ...handlerAt(c, 'livenessProbe', path),
    ...handlerAt(c, 'readinessProbe', path),
    ...handlerAt(c, 'startupProbe', path),
    ...(lifecycle ? { lifecycle: readLifecycle(lifecycle, `${path}.lifecycle`) } : {}),
    resources: readResources(optionalObject(c, 'resources', path), `${path}.resources`),
    env: list(c, 'env', path, readEnv),
    ...(restartPolicy !== undefined ? { restartPolicy } : {}),
  };
}

// A volume: its name and the key of its source (the first set field besides name); a volume without a source is an
// emptyDir, as the API server's defaulting makes it.
function readVolume(item: unknown, path: string): Volume {
  const v = objectAt(item, path);
  const source = Object.keys(v).find((k) => k !== 'name' && v[k] !== null && v[k] !== undefined) ?? 'emptyDir';
  const hostPath = source === 'hostPath' && isObject(v.hostPath) ? optional(v.hostPath, 'path', `${path}.hostPath`, 'string', isString) : undefined;
  return { name: optional(v, 'name', path, 'string', isString) ?? '', source, ...(hostPath !== undefined ? { hostPath } : {}) };
}

function readPullSecrets(spec: JsonObject, path: string): string[] {
  return list(spec, 'imagePullSecrets', path, (s, at) => optional(objectAt(s, at), 'name', at, 'string', isString) ?? '').filter((name) => name !== '');
}

// Converts a pod spec from JSON into a PodSpec; throws WorkloadError naming the first mistyped field.
export function readPodSpec(value: unknown, path: string): PodSpec {
  const spec = objectAt(value, path);
  const psc = optionalObject(spec, 'securityContext', path);
  const os = optionalObject(spec, 'os', path);
  const bool = (key: string) => optional(spec, key, path, 'boolean', isBool);
  return {
    os: os ? optional(os, 'name', `${path}.os`, 'string', isString) : undefined,
    hostUsers: bool('hostUsers'),
    hostNetwork: bool('hostNetwork'),
    hostPID: bool('hostPID'),
    hostIPC: bool('hostIPC'),
    restartPolicy: optional(spec, 'restartPolicy', path, 'string', isString),
    nodeSelector: stringMap(spec, 'nodeSelector', path),
    ...(psc ? { securityContext: readPodSecurityContext(psc, `${path}.securityContext`) } : {}),
    serviceAccountName: optional(spec, 'serviceAccountName', path, 'string', isString),
    imagePullSecrets: readPullSecrets(spec, path),
    volumes: list(spec, 'volumes', path, readVolume),
    containers: list(spec, 'containers', path, readContainer),
    initContainers: list(spec, 'initContainers', path, readContainer),
    ephemeralContainers: list(spec, 'ephemeralContainers', path, readContainer),
  };
}
