// Converts a pod spec from JSON into a typed PodSpec: containers, volumes, security contexts.
import type { Container, ContainerPort, EnvVar, Handler, PodSpec, Resources, Volume } from './k8s.js';
import { fieldPath, isObject, list, optionalBool, optionalInt, optionalObject, optionalString, stringMap, WorkloadError } from './k8s.js';
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
    name: optionalString(port, 'name', path),
    containerPort: optionalInt(port, 'containerPort', path),
    hostPort: optionalInt(port, 'hostPort', path),
    protocol: optionalString(port, 'protocol', path),
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
    httpGetHost: httpGet ? optionalString(httpGet, 'host', fieldPath(path, 'httpGet')) : undefined,
    tcpSocketHost: tcpSocket ? optionalString(tcpSocket, 'host', fieldPath(path, 'tcpSocket')) : undefined,
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
  return { name: optionalString(env, 'name', path) ?? '', value: optionalString(env, 'value', path), fromSource: isObject(env.valueFrom) };
}

// One container (every field present, undefined when unset: one object shape for all containers).
function readContainer(value: unknown, path: string): Container {
  const c = objectAt(value, path);
  const sc = optionalObject(c, 'securityContext', path);
  const lifecycle = optionalObject(c, 'lifecycle', path);
  const resources = optionalObject(c, 'resources', path);
  return {
    name: optionalString(c, 'name', path) ?? '',
    image: optionalString(c, 'image', path) ?? '',
    securityContext: sc ? readSecurityContext(sc, fieldPath(path, 'securityContext')) : undefined,
    ports: c.ports === undefined ? NONE : list(c, 'ports', path, readPort),
    livenessProbe: handlerAt(c, 'livenessProbe', path),
    readinessProbe: handlerAt(c, 'readinessProbe', path),
    startupProbe: handlerAt(c, 'startupProbe', path),
    lifecycle: lifecycle ? { postStart: handlerAt(lifecycle, 'postStart', fieldPath(path, 'lifecycle')), preStop: handlerAt(lifecycle, 'preStop', fieldPath(path, 'lifecycle')) } : undefined,
    resources: resources ? readResources(resources, fieldPath(path, 'resources')) : NO_RESOURCES,
    env: c.env === undefined ? NONE : list(c, 'env', path, readEnv),
    restartPolicy: optionalString(c, 'restartPolicy', path),
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
  const hostPath = source === 'hostPath' && isObject(v.hostPath) ? optionalString(v.hostPath, 'path', fieldPath(path, 'hostPath')) : undefined;
  return { name: optionalString(v, 'name', path) ?? '', source, hostPath };
}

function readPullSecrets(spec: JsonObject, path: string): string[] {
  return list(spec, 'imagePullSecrets', path, (s, at) => optionalString(objectAt(s, at), 'name', at) ?? '').filter((name) => name !== '');
}

// Converts a pod spec from JSON into a PodSpec; throws WorkloadError naming the first mistyped field.
export function readPodSpec(value: unknown, path: string): PodSpec {
  const spec = objectAt(value, path);
  const psc = optionalObject(spec, 'securityContext', path);
  const os = optionalObject(spec, 'os', path);
  const bool = (key: string) => optionalBool(spec, key, path);
  return {
    os: os ? optionalString(os, 'name', fieldPath(path, 'os')) : undefined,
    hostUsers: bool('hostUsers'),
    hostNetwork: bool('hostNetwork'),
    hostPID: bool('hostPID'),
    hostIPC: bool('hostIPC'),
    restartPolicy: optionalString(spec, 'restartPolicy', path),
    nodeSelector: stringMap(spec, 'nodeSelector', path),
    securityContext: psc ? readPodSecurityContext(psc, fieldPath(path, 'securityContext')) : undefined,
    serviceAccountName: optionalString(spec, 'serviceAccountName', path),
    imagePullSecrets: readPullSecrets(spec, path),
    volumes: spec.volumes === undefined ? NONE : list(spec, 'volumes', path, readVolume),
    containers: list(spec, 'containers', path, readContainer),
    initContainers: list(spec, 'initContainers', path, readContainer),
    ephemeralContainers: list(spec, 'ephemeralContainers', path, readContainer),
  };
}
