// The e2e control plane itself (no portcullis): API server, controllers and audit log work as tests expect.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { findAuditEvents } from './audit-log.js';
import { clusterClient, waitForServiceAccount } from './cluster.js';
import { deployment, namespace } from './manifests.js';
import { waitFor } from './proc.js';

const cluster = clusterClient(inject('cluster'));
const NS = 'e2e-cluster';

describe('e2e control plane', () => {
  it('serves a stamped Kubernetes version to the admin kubeconfig', async () => {
    const res = await cluster.kubectl(['version', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    const version = JSON.parse(res.stdout) as { serverVersion: { gitVersion: string }; clientVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(version.clientVersion.gitVersion).toBe(version.serverVersion.gitVersion);
  });

  it('runs the controllers: a Deployment gets Pods (Pending, no kubelet) and the audit log records it', async () => {
    const ns = await cluster.kubectl(['apply', '-f', '-'], { input: namespace(NS, { 'portcullis.dev/mode': 'exempt' }) });
    expect(ns.code, ns.stderr).toBe(0);
    await waitForServiceAccount(cluster, NS);
    const res = await cluster.kubectl(['apply', '-f', '-'], { input: deployment('plain', NS, 'root', 1) });
    expect(res.code, res.stderr).toBe(0);
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const pods = await waitFor('a pod for deployment plain', async () => {
      const list = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=plain' });
      return list.items.length === 1 ? list.items : undefined;
    });
    expect(pods[0]?.status?.phase).toBe('Pending');
    const events = findAuditEvents(cluster.auditLogPath, { resource: 'deployments', namespace: NS, name: 'plain', verb: 'create' });
    expect(events.length).toBeGreaterThan(0);
  });
});
