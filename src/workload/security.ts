// Pod and container security contexts, read from JSON.
import type { PodSecurityContext, Profile, SecurityContext, SELinuxOptions, Sysctl, WindowsOptions } from './k8s.js';
import { fieldPath, isObject, list, optionalBool, optionalInt, optionalObject, optionalString, stringList, WorkloadError } from './k8s.js';
import type { JsonObject } from './k8s.js';

function readProfile(obj: JsonObject, path: string): Profile {
  return { type: optionalString(obj, 'type', path) ?? '', localhostProfile: optionalString(obj, 'localhostProfile', path) };
}

function readSELinux(obj: JsonObject, path: string): SELinuxOptions {
  const field = (key: string) => optionalString(obj, key, path) ?? '';
  return { type: field('type'), user: field('user'), role: field('role'), level: field('level') };
}

function readWindows(obj: JsonObject, path: string): WindowsOptions {
  return {
    hostProcess: optionalBool(obj, 'hostProcess', path),
    runAsUserName: optionalString(obj, 'runAsUserName', path),
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
    runAsUser: optionalInt(obj, 'runAsUser', path),
    runAsNonRoot: optionalBool(obj, 'runAsNonRoot', path),
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
    readOnlyRootFilesystem: optionalBool(obj, 'readOnlyRootFilesystem', path),
    privileged: optionalBool(obj, 'privileged', path),
    allowPrivilegeEscalation: optionalBool(obj, 'allowPrivilegeEscalation', path),
    procMount: optionalString(obj, 'procMount', path),
    capabilities: caps ? { add: stringList(caps, 'add', fieldPath(path, 'capabilities')), drop: stringList(caps, 'drop', fieldPath(path, 'capabilities')) } : undefined,
  };
}

function readSysctl(item: unknown, path: string): Sysctl {
  if (!isObject(item)) throw new WorkloadError(path, 'object', item);
  return { name: optionalString(item, 'name', path) ?? '', value: optionalString(item, 'value', path) ?? '' };
}

// The pod's securityContext.
export function readPodSecurityContext(obj: JsonObject, path: string): PodSecurityContext {
  return Object.assign(readCommon(obj, path), { sysctls: list(obj, 'sysctls', path, readSysctl) });
}
