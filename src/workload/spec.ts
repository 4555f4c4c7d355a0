// Converts a pod spec from JSON into a typed PodSpec: containers, volumes, security contexts.
import type { Container, ContainerPort, EnvVar, Handler, PodSpec, Resources, Volume } from './k8s.js';
import { fieldPath, isBool, isInt, isObject, isString, list, optional, optionalObject, stringMap, WorkloadError } from './k8s.js';
import type { JsonObject } from './k8s.js';
import { readPodSecurityContext, readSecurityContext } from './security.js';

const NONE: readonly never[] = Object.freeze([]);

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

// A probe or lifecycle handler: the actions it sets and the host of httpGet / tcpSocket.
function readHandler(obj: JsonObject, path: string): Handler {
  const httpGet = optionalObject(obj, 'httpGet', path);
  const tcpSocket = optionalObject(obj, 'tcpSocket', path);
  const actions: string[] = [];
  if (isObject(obj.exec)) actions.push('exec');
  if (httpGet) actions.push('httpGet');
  if (tcpSocket) actions.push('tcpSocket');
  if (isObject(obj.grpc)) actions.push('grpc');
  if (isObject(obj.sleep)) actions.push('sleep');
  return {
    actions,
    httpGetHost: httpGet ? optional(httpGet, 'host', fieldPath(path, 'httpGet'), 'string', isString) : undefined,
    tcpSocketHost: tcpSocket ? optional(tcpSocket, 'host', fieldPath(path, 'tcpSocket'), 'string', isString) : undefined,
  };
}

function handlerAt(obj: JsonObject, key: string, path: string): Handler | undefined {
  const value = optionalObject(obj, key, path);
  return value ? readHandler(value, fieldPath(path, key)) : undefined;
}

const NO_RESOURCES: Resources = { limits: {}, requests: {} };

function readResources(obj: JsonObject, path: string): Resources {
  return { limits: stringMap(obj, 'limits', path, true), requests: stringMap(obj, 'requests', path, true) };
}

function readEnv(item: unknown, path: string): EnvVar {
  const env = objectAt(item, path);
  return { name: optional(env, 'name', path, 'string', isString) ?? '', value: optional(env, 'value', path, 'string', isString), fromSource: isObject(env.valueFrom) };
}

// One container (every field present, undefined when unset: one object shape for all containers).
function readContainer(value: unknown, path: string): Container {
  const c = objectAt(value, path);
  const sc = optionalObject(c, 'securityContext', path);
  const lifecycle = optionalObject(c, 'lifecycle', path);
  const resources = optionalObject(c, 'resources', path);
  return {
    name: optional(c, 'name', path, 'string', isString) ?? '',
    image: optional(c, 'image', path, 'string', isString) ?? '',
    securityContext: sc ? readSecurityContext(sc, fieldPath(path, 'securityContext')) : undefined,
    ports: c.ports === undefined ? NONE : list(c, 'ports', path, readPort),
    livenessProbe: handlerAt(c, 'livenessProbe', path),
    readinessProbe: handlerAt(c, 'readinessProbe', path),
    startupProbe: handlerAt(c, 'startupProbe', path),
    lifecycle: lifecycle ? { postStart: handlerAt(lifecycle, 'postStart', fieldPath(path, 'lifecycle')), preStop: handlerAt(lifecycle, 'preStop', fieldPath(path, 'lifecycle')) } : undefined,
    resources: resources ? readResources(resources, fieldPath(path, 'resources')) : NO_RESOURCES,
    env: c.env === undefined ? NONE : list(c, 'env', path, readEnv),
    restartPolicy: optional(c, 'restartPolicy', path, 'string', isString),
  };
}

// A volume: its name and the key of its source (the first set field besides name); a volume without a source is an
// emptyDir, as the API server's defaulting makes it.
function readVolume(item: unknown, path: string): Volume {
  const v = objectAt(item, path);
  let source = 'emptyDir';
  for (const k in v) {
    if (k !== 'name' && v[k] !== null && v[k] !== undefined) {
      source = k;
      break;
    }
  }
  const hostPath = source === 'hostPath' && isObject(v.hostPath) ? optional(v.hostPath, 'path', fieldPath(path, 'hostPath'), 'string', isString) : undefined;
  return { name: optional(v, 'name', path, 'string', isString) ?? '', source, hostPath };
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
    os: os ? optional(os, 'name', fieldPath(path, 'os'), 'string', isString) : undefined,
    hostUsers: bool('hostUsers'),
    hostNetwork: bool('hostNetwork'),
    hostPID: bool('hostPID'),
    hostIPC: bool('hostIPC'),
    restartPolicy: optional(spec, 'restartPolicy', path, 'string', isString),
    nodeSelector: stringMap(spec, 'nodeSelector', path),
    securityContext: psc ? readPodSecurityContext(psc, fieldPath(path, 'securityContext')) : undefined,
    serviceAccountName: optional(spec, 'serviceAccountName', path, 'string', isString),
    imagePullSecrets: readPullSecrets(spec, path),
    volumes: spec.volumes === undefined ? NONE : list(spec, 'volumes', path, readVolume),
    containers: list(spec, 'containers', path, readContainer),
    initContainers: list(spec, 'initContainers', path, readContainer),
    ephemeralContainers: list(spec, 'ephemeralContainers', path, readContainer),
  };
}
