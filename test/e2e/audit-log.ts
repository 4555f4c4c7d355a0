// Reads the kube-apiserver audit log (one JSON event per line).
import { existsSync, readFileSync } from 'node:fs';

export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  annotations?: Record<string, string>;
}

export function readAuditEvents(path: string): AuditEvent[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as AuditEvent];
      } catch {
        return [];
      }
    });
}

export interface AuditQuery {
  resource: string;
  subresource?: string;
  namespace: string;
  name: string;
  verb?: string;
}

// ResponseComplete events for one object (and verb), oldest first.
export function findAuditEvents(path: string, q: AuditQuery): AuditEvent[] {
  return readAuditEvents(path).filter(
    (e) =>
      e.stage === 'ResponseComplete' &&
      e.objectRef?.resource === q.resource &&
      (q.subresource === undefined || e.objectRef.subresource === q.subresource) &&
      e.objectRef.namespace === q.namespace &&
      e.objectRef.name === q.name &&
      (q.verb === undefined || e.verb === q.verb),
  );
}

// The annotations a portcullis webhook added (the API server prefixes each key with the webhook name).
export function portcullisAnnotations(event: AuditEvent): Record<string, string> {
  return Object.fromEntries(Object.entries(event.annotations ?? {}).filter(([k]) => /(^|\.)portcullis\.dev\//.test(k)));
}
