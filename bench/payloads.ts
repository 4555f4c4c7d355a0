// The bench's AdmissionReviews: captured from a real kube-apiserver by bench/capture.ts into bench/payloads/*.json,
// or, when no capture exists, hand-built here to mirror what the API server sends (defaults applied, managedFields,
// the projected service-account volume, CreateOptions). Every pod passes portcullis and Pod Security "restricted".
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Json = Record<string, any>;

export const PAYLOAD_DIR = new URL('./payloads/', import.meta.url).pathname;

/** The three payloads every load scenario runs. */
export const PAYLOADS = ['pod-1c', 'pod-10c', 'deployment'] as const;
export type PayloadName = (typeof PAYLOADS)[number];

export const PAYLOAD_TITLES: Record<PayloadName, string> = {
  'pod-1c': 'Pod, 1 container',
  'pod-10c': 'Pod, 10 containers + managedFields',
  deployment: 'Deployment, 2 containers',
};

export interface Payload {
  readonly name: PayloadName;
  readonly body: string;
  readonly bytes: number;
  /** captured from kube-apiserver, or hand-built */
  readonly source: 'captured' | 'hand-built';
}

const NAMESPACE = 'bench';
const CREATED = '2026-01-01T00:00:00Z';

// A restricted-compliant container; `i` varies names, images, ports and env so ten of them are not identical.
export function benchContainer(i: number, opts: { image?: string; runAsUser?: boolean } = {}): Json {
  const name = i === 0 ? 'app' : `sidecar-${i}`;
  return {
    name,
    image: opts.image ?? `registry.example.com/team/${name}:1.${i}.3`,
    ports: [{ name: `http-${i}`, containerPort: 8080 + i, protocol: 'TCP' }],
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    ],
    resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'kube-api-access-x7k2p', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
    ],
    ...(i > 1 ? {} : { livenessProbe: { httpGet: { path: '/healthz', port: 8080 + i, scheme: 'HTTP' }, initialDelaySeconds: 5, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 } }),
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
    securityContext: {
      capabilities: { drop: ['ALL'] },
      ...(opts.runAsUser === false ? {} : { runAsUser: 10001 + i }),
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

// The spec as the API server stores it: defaults, tolerations and the service-account volume filled in.
export function benchPodSpec(containers: Json[]): Json {
  return {
    volumes: [
      { name: 'tmp', emptyDir: {} },
      {
        name: 'kube-api-access-x7k2p',
        projected: {
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
          defaultMode: 420,
        },
      },
    ],
    containers,
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: 'default',
    serviceAccount: 'default',
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    schedulerName: 'default-scheduler',
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    priority: 0,
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
  };
}

// managedFields as kubectl create/apply records them: one FieldsV1 entry listing every field set per container.
function managedFields(manager: string, spec: Json, prefix: (inner: Json) => Json): Json[] {
  const containers: Json = {};
  for (const c of spec.containers as Json[]) {
    containers[`k:{"name":"${c.name}"}`] = {
      '.': {},
      'f:env': Object.fromEntries((c.env as Json[]).map((e) => [`k:{"name":"${e.name}"}`, { '.': {}, 'f:name': {}, ...(e.value ? { 'f:value': {} } : { 'f:valueFrom': { '.': {}, 'f:fieldRef': {} } }) }])),
      'f:image': {},
      'f:imagePullPolicy': {},
      ...(c.livenessProbe ? { 'f:livenessProbe': { '.': {}, 'f:failureThreshold': {}, 'f:httpGet': { '.': {}, 'f:path': {}, 'f:port': {}, 'f:scheme': {} }, 'f:initialDelaySeconds': {}, 'f:periodSeconds': {}, 'f:successThreshold': {}, 'f:timeoutSeconds': {} } } : {}),
      'f:name': {},
      'f:ports': { '.': {}, [`k:{"containerPort":${(c.ports as Json[])[0]?.containerPort},"protocol":"TCP"}`]: { '.': {}, 'f:containerPort': {}, 'f:name': {}, 'f:protocol': {} } },
      'f:resources': { '.': {}, 'f:limits': { '.': {}, 'f:cpu': {}, 'f:memory': {} }, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } },
      'f:securityContext': { '.': {}, 'f:allowPrivilegeEscalation': {}, 'f:capabilities': { '.': {}, 'f:drop': {} }, 'f:readOnlyRootFilesystem': {}, 'f:runAsNonRoot': {}, 'f:runAsUser': {}, 'f:seccompProfile': { '.': {}, 'f:type': {} } },
      'f:terminationMessagePath': {},
      'f:terminationMessagePolicy': {},
      'f:volumeMounts': { '.': {}, 'k:{"mountPath":"/tmp"}': { '.': {}, 'f:mountPath': {}, 'f:name': {} } },
    };
  }
  const podFields = {
    'f:containers': containers,
    'f:dnsPolicy': {},
    'f:enableServiceLinks': {},
    'f:restartPolicy': {},
    'f:schedulerName': {},
    'f:securityContext': { '.': {}, 'f:runAsNonRoot': {}, 'f:seccompProfile': { '.': {}, 'f:type': {} } },
    'f:terminationGracePeriodSeconds': {},
    'f:volumes': { '.': {}, 'k:{"name":"tmp"}': { '.': {}, 'f:emptyDir': {}, 'f:name': {} } },
  };
  return [{ manager, operation: 'Update', apiVersion: 'v1', time: CREATED, fieldsType: 'FieldsV1', fieldsV1: prefix(podFields) }];
}

function metadata(name: string, uid: string, labels: Json, fields: Json[]): Json {
  return { name, namespace: NAMESPACE, uid, creationTimestamp: CREATED, labels, managedFields: fields };
}

// An AdmissionReview as kube-apiserver sends it for a CREATE.
export function reviewFor(object: Json, resource: { group: string; version: string; resource: string }, manager: string): Json {
  const gvk = { group: resource.group, version: resource.version, kind: object.kind as string };
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: 'b1f0c2a7-4e1d-4c6e-9a55-3d2b8e0f6a11',
      kind: gvk,
      resource,
      requestKind: gvk,
      requestResource: resource,
      name: object.metadata.name,
      namespace: NAMESPACE,
      operation: 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: manager, fieldValidation: 'Strict' },
    },
  };
}

// A Pod object with n containers as the API server hands it to webhooks.
export function benchPod(name: string, containers: Json[]): Json {
  const spec = benchPodSpec(containers);
  const labels = { app: name, 'app.kubernetes.io/part-of': 'bench' };
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: metadata(name, '0c1b7d0e-5b7e-4f8e-8d1e-2f3a4b5c6d7e', labels, managedFields('kubectl-create', spec, (f) => ({ 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:app.kubernetes.io/part-of': {} } }, 'f:spec': f }))),
    spec,
    status: { phase: 'Pending', qosClass: 'Burstable' },
  };
}

export function podReview(name: string, containers: Json[]): Json {
  return reviewFor(benchPod(name, containers), { group: '', version: 'v1', resource: 'pods' }, 'kubectl-create');
}

function handBuilt(name: PayloadName): Json {
  if (name === 'pod-1c') return podReview('bench-one', [benchContainer(0)]);
  if (name === 'pod-10c') return podReview('bench-ten', Array.from({ length: 10 }, (_, i) => benchContainer(i)));
  const template = benchPodSpec([benchContainer(0), benchContainer(1)]);
  const labels = { app: 'bench-deploy' };
  const object = {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: metadata('bench-deploy', '7d9e3c1a-2b4f-4a6d-8e0c-1f2a3b4c5d6e', labels, managedFields('kubectl-client-side-apply', template, (f) => ({ 'f:spec': { 'f:template': { 'f:spec': f } } }))),
    spec: {
      replicas: 3,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: template },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {},
  };
  return reviewFor(object, { group: 'apps', version: 'v1', resource: 'deployments' }, 'kubectl-client-side-apply');
}

// A payload: bench/payloads/<name>.json when captured, else the hand-built review.
export function loadPayload(name: PayloadName): Payload {
  const file = join(PAYLOAD_DIR, `${name}.json`);
  if (existsSync(file)) {
    const body = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
    return { name, body, bytes: Buffer.byteLength(body), source: 'captured' };
  }
  const body = JSON.stringify(handBuilt(name));
  return { name, body, bytes: Buffer.byteLength(body), source: 'hand-built' };
}

/** A one-container pod review whose image needs a registry look-up (no runAsUser anywhere). */
export function imagePodReview(images: readonly string[], name = 'bench-images'): string {
  const containers = images.map((image, i) => benchContainer(i, { image, runAsUser: false }));
  return JSON.stringify(podReview(name, containers));
}
