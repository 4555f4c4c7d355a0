// One events.k8s.io/v1 Event about an object, as portcullis records them (owner events, ignored exceptions).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeClient } from '../kube/client.js';
import { microTime } from '../audit/lease.js';

export const REPORTING_CONTROLLER = 'portcullis.dev/admission-webhook';

export interface EventRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

export interface EventInput {
  readonly regarding: EventRef;
  readonly related?: EventRef;
  readonly action: string;
  readonly reason: string;
  readonly note: string;
  readonly type?: 'Warning' | 'Normal';
  readonly at: Date;
  readonly instance?: string;
}

// Posts the Event in the namespace of the object it is about.
export async function recordEvent(client: KubeClient, input: EventInput): Promise<void> {
  const ref = (o: EventRef) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.name, namespace: o.namespace, uid: o.uid });
  const event = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: `${input.regarding.name.slice(0, 200)}.${randomBytes(8).toString('hex')}`, namespace: input.regarding.namespace },
    eventTime: microTime(input.at),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: (input.instance ?? process.env.POD_NAME ?? hostname()).slice(0, 128),
    action: input.action,
    reason: input.reason,
    type: input.type ?? 'Warning',
    regarding: ref(input.regarding),
    ...(input.related ? { related: ref(input.related) } : {}),
    note: input.note,
  };
  await client.request({ method: 'POST', path: `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(input.regarding.namespace)}/events`, body: event });
}
