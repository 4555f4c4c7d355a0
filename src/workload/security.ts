// Pod and container security contexts, read from JSON.
import type { PodSecurityContext, Profile, SecurityContext, SELinuxOptions, Sysctl, WindowsOptions } from './k8s.js';
import { fieldPath, isBool, isInt, isObject, isString, list, optional, optionalObject, stringList, WorkloadError } from './k8s.js';
import type { JsonObject } from './k8s.js';

function readProfile(obj: JsonObject, path: string): Profile {
  return { type: optional(obj, 'type', path, 'string', isString) ?? '', localhostProfile: optional(obj, 'localhostProfile', path, 'string', isString) };
}

function readSELinux(obj: JsonObject, path: string): SELinuxOptions {
  const field = (key: string) => optional(obj, key, path, 'string', isString) ?? '';
  return { type: field('type'), user: field('user'), role: field('role'), level: field('level') };
}

function readWindows(obj: JsonObject, path: string): WindowsOptions {
  return {
    hostProcess: optional(obj, 'hostProcess', path, 'boolean', isBool),
    runAsUserName: optional(obj, 'runAsUserName', path, 'string', isString),
  };
}

// The optional sub-object at key, converted by read; undefined when absent.
function sub<T>(obj: JsonObject, key: string, path: string, read: (o: JsonObject, p: string) => T): T | undefined {
  const value = optionalObject(obj, key, path);
  return value ? read(value, fieldPath(path, key)) : undefined;
}

// The fields pod and container security contexts share.
function readCommon(obj: JsonObject, path: string) {
  return {
    runAsUser: optional(obj, 'runAsUser', path, 'integer', isInt),
    runAsNonRoot: optional(obj, 'runAsNonRoot', path, 'boolean', isBool),
    seccompProfile: sub(obj, 'seccompProfile', path, readProfile),
    appArmorProfile: sub(obj, 'appArmorProfile', path, readProfile),
    seLinuxOptions: sub(obj, 'seLinuxOptions', path, readSELinux),
    windowsOptions: sub(obj, 'windowsOptions', path, readWindows),
  };
}

// A container's securityContext: every field present, undefined when unset, in one object literal (one shape; properties
// added afterwards grew a second backing store per container).
export function readSecurityContext(obj: JsonObject, path: string): SecurityContext {
  const caps = optionalObject(obj, 'capabilities', path);
  return {
    ...readCommon(obj, path),
    readOnlyRootFilesystem: optional(obj, 'readOnlyRootFilesystem', path, 'boolean', isBool),
    privileged: optional(obj, 'privileged', path, 'boolean', isBool),
    allowPrivilegeEscalation: optional(obj, 'allowPrivilegeEscalation', path, 'boolean', isBool),
    procMount: optional(obj, 'procMount', path, 'string', isString),
    capabilities: caps ? { add: stringList(caps, 'add', fieldPath(path, 'capabilities')), drop: stringList(caps, 'drop', fieldPath(path, 'capabilities')) } : undefined,
  };
}

function readSysctl(item: unknown, path: string): Sysctl {
  if (!isObject(item)) throw new WorkloadError(path, 'object', item);
  return { name: optional(item, 'name', path, 'string', isString) ?? '', value: optional(item, 'value', path, 'string', isString) ?? '' };
}

// The pod's securityContext.
export function readPodSecurityContext(obj: JsonObject, path: string): PodSecurityContext {
  return Object.assign(readCommon(obj, path), { sysctls: list(obj, 'sysctls', path, readSysctl) });
}
