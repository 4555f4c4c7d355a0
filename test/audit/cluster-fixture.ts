// A small cluster for scan tests: controller chains, a standalone pod, pods of a custom controller, kube-system.
import type { FakeCluster } from './fake-cluster.js';
import { fakeCluster } from './fake-cluster.js';

type Json = Record<string, unknown>;

const good = (name: string, image = 'registry.example/app:1.2.3'): Json => ({
  name,
  image,
  securityContext: { runAsUser: 1000, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
});
const root = (name: string, image = 'registry.example/app:1.2.3'): Json => ({ ...good(name, image), securityContext: { runAsUser: 0, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } });

const owner = (apiVersion: string, kind: string, name: string, uid: string) => [{ apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true }];
const meta = (name: string, namespace: string, uid: string, ownerReferences?: unknown[]) => ({ name, namespace, uid, ...(ownerReferences ? { ownerReferences } : {}) });

export function clusterFixture(): FakeCluster {
  const webSpec = { containers: [good('app'), root('sidecar', 'nginx:latest')] };
  const jobSpec = { restartPolicy: 'Never', containers: [good('job')] };
  return fakeCluster({
    '/apis/apps/v1/deployments': [
      { metadata: meta('web', 'shop', 'd-web'), spec: { template: { spec: webSpec } } },
      { metadata: meta('api', 'shop', 'd-api'), spec: { template: { spec: { containers: [good('api')] } } } },
    ],
    '/apis/apps/v1/replicasets': [
      { metadata: meta('web-1', 'shop', 'rs-web-1', owner('apps/v1', 'Deployment', 'web', 'd-web')), spec: { template: { spec: webSpec } } },
      { metadata: meta('web-0', 'shop', 'rs-web-0', owner('apps/v1', 'Deployment', 'web', 'd-web')), spec: { template: { spec: webSpec } } },
      { metadata: meta('api-1', 'shop', 'rs-api-1', owner('apps/v1', 'Deployment', 'api', 'd-api')), spec: { template: { spec: { containers: [good('api')] } } } },
      { metadata: meta('rollout-1', 'payments', 'rs-rollout-1', owner('argoproj.io/v1alpha1', 'Rollout', 'pay', 'ro-pay')), spec: { template: { spec: { containers: [root('pay')] } } } },
    ],
    '/apis/batch/v1/cronjobs': [{ metadata: meta('nightly', 'shop', 'cj-nightly'), spec: { jobTemplate: { spec: { template: { spec: jobSpec } } } } }],
    '/apis/batch/v1/jobs': [{ metadata: meta('nightly-1', 'shop', 'job-nightly-1', owner('batch/v1', 'CronJob', 'nightly', 'cj-nightly')), spec: { template: { spec: jobSpec } } }],
    '/apis/apps/v1/statefulsets': [],
    '/apis/apps/v1/daemonsets': [],
    '/api/v1/replicationcontrollers': [],
    '/api/v1/pods': [
      ...[1, 2, 3].map((i) => ({ metadata: meta(`web-1-${i}`, 'shop', `p-web-${i}`, owner('apps/v1', 'ReplicaSet', 'web-1', 'rs-web-1')), spec: webSpec })),
      { metadata: meta('api-1-a', 'shop', 'p-api-a', owner('apps/v1', 'ReplicaSet', 'api-1', 'rs-api-1')), spec: { containers: [good('api')] } },
      { metadata: meta('nightly-1-x', 'shop', 'p-job', owner('batch/v1', 'Job', 'nightly-1', 'job-nightly-1')), spec: jobSpec },
      { metadata: meta('debug', 'shop', 'p-debug'), spec: { containers: [root('shell', 'busybox')] } },
      ...[1, 2].map((i) => ({ metadata: meta(`rollout-1-${i}`, 'payments', `p-pay-${i}`, owner('apps/v1', 'ReplicaSet', 'rollout-1', 'rs-rollout-1')), spec: { containers: [root('pay')] } })),
      ...[1, 2].map((i) => ({ metadata: meta(`vm-${i}`, 'payments', `p-vm-${i}`, owner('kubevirt.io/v1', 'VirtualMachineInstance', 'vm', 'vmi-1')), spec: { containers: [good('compute')] } })),
      { metadata: meta('coredns-1', 'kube-system', 'p-dns'), spec: { containers: [root('coredns', 'coredns:latest')] } },
    ],
  });
}
