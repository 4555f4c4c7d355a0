// A real, kubelet-less control plane for e2e tests: etcd + kube-apiserver + kube-controller-manager on 127.0.0.1.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { httpsGet } from './http.js';
import { createCa, issue, serviceAccountKeyPair, type Issued } from './pki.js';
import { freePort, removeOnExit, run, startProcess, waitFor, WaitAbortedError, type ManagedProcess, type RunOptions, type RunResult } from './proc.js';
import { toolPath, toolsBin } from './tools.js';

export interface ClusterOptions {
  /** Folder holding etcd, kube-apiserver, kube-controller-manager and kubectl (default $PORTCULLIS_TOOLS/bin). */
  bin?: string;
  /** Start kube-controller-manager (default true). */
  controllerManager?: boolean;
  /** Keep the temp dir on stop (default: $PORTCULLIS_E2E_KEEP is set). */
  keepDir?: boolean;
  /** Extra kube-apiserver flags. */
  apiserverArgs?: string[];
  /** Progress messages. */
  log?: (message: string) => void;
}

/** What a test needs to talk to a running cluster; serializable so vitest globalSetup can provide it. */
export interface ClusterInfo {
  dir: string;
  bin: string;
  server: string;
  kubeconfig: string;
  caPath: string;
  auditLogPath: string;
  logs: { etcd: string; apiserver: string; controllerManager: string };
}

export type KubectlOptions = RunOptions;

export interface ClusterClient extends ClusterInfo {
  /** Runs kubectl with the admin kubeconfig; never throws on a non-zero exit. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<RunResult>;
}

export interface Cluster extends ClusterClient {
  info: ClusterInfo;
  /** Kills everything this cluster started and removes its temp dir. */
  stop(): Promise<void>;
}

const AUDIT_POLICY = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived'],
  rules: [
    {
      level: 'RequestResponse',
      resources: [
        { group: '', resources: ['pods', 'pods/ephemeralcontainers', 'replicationcontrollers', 'podtemplates'] },
        { group: 'apps', resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'] },
        { group: 'batch', resources: ['jobs', 'cronjobs'] },
      ],
    },
    { level: 'None' },
  ],
};

function kubeconfigYaml(server: string, caPem: string, user: string, client: Issued): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(client.certPem), 'client-key-data': b64(client.keyPem) } }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user } }],
    'current-context': 'e2e',
  });
}

// A kubectl bound to a cluster's admin kubeconfig (usable from test workers with provided ClusterInfo).
export function clusterClient(info: ClusterInfo): ClusterClient {
  const kubectl = toolPath('kubectl', info.bin);
  const env = { ...process.env, KUBECONFIG: info.kubeconfig, KUBECACHEDIR: join(info.dir, 'kube-cache') };
  return {
    ...info,
    kubectl: (args, opts = {}) =>
      run(kubectl, ['--kubeconfig', info.kubeconfig, ...args], { ...opts, env: { ...env, ...opts.env } }),
  };
}

// Starts etcd, kube-apiserver and (by default) kube-controller-manager; resolves once the API server is ready.
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? (() => undefined);
  const bin = opts.bin ?? toolsBin();
  const etcdBin = toolPath('etcd', bin);
  const apiserverBin = toolPath('kube-apiserver', bin);
  const kcmBin = toolPath('kube-controller-manager', bin);
  toolPath('kubectl', bin);

  const dir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-'));
  const pki = join(dir, 'pki');
  mkdirSync(pki);
  const procs: ManagedProcess[] = [];
  const keep = opts.keepDir ?? process.env.PORTCULLIS_E2E_KEEP !== undefined;
  const release = keep ? () => undefined : removeOnExit(dir);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const p of [...procs].reverse()) await p.stop();
    release();
    if (keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };

  try {
    // PKI
    const ca = createCa('portcullis-e2e-ca');
    const serving = issue(ca, {
      commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      ipAddresses: ['127.0.0.1', '10.0.0.1'],
      server: true,
    });
    const admin = issue(ca, { commonName: 'admin', organizations: ['system:masters'], client: true });
    const kcm = issue(ca, { commonName: 'system:kube-controller-manager', client: true });
    const sa = serviceAccountKeyPair();
    const file = (name: string, content: string) => {
      const p = join(pki, name);
      writeFileSync(p, content, { mode: 0o600 });
      return p;
    };
    const caPath = file('ca.crt', ca.certPem);
    const caKeyPath = file('ca.key', ca.keyPem);
    const servingCrt = file('apiserver.crt', serving.certPem);
    const servingKey = file('apiserver.key', serving.keyPem);
    const saKey = file('sa.key', sa.privatePem);
    const saPub = file('sa.pub', sa.publicPem);

    const [etcdClient, etcdPeer, apiPort, kcmPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(server, ca.certPem, 'admin', admin), { mode: 0o600 });
    const kcmKubeconfig = join(dir, 'kcm.kubeconfig');
    writeFileSync(kcmKubeconfig, kubeconfigYaml(server, ca.certPem, 'kube-controller-manager', kcm), { mode: 0o600 });
    const auditPolicy = join(dir, 'audit-policy.yaml');
    writeFileSync(auditPolicy, stringify(AUDIT_POLICY));
    const auditLogPath = join(dir, 'audit.log');
    const logs = {
      etcd: join(dir, 'etcd.log'),
      apiserver: join(dir, 'kube-apiserver.log'),
      controllerManager: join(dir, 'kube-controller-manager.log'),
    };
    const info: ClusterInfo = { dir, bin, server, kubeconfig, caPath, auditLogPath, logs };

    // etcd
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    const etcd = startProcess(
      'etcd',
      etcdBin,
      [
        '--name=e2e',
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=e2e=${peerUrl}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      { logPath: logs.etcd },
    );
    procs.push(etcd);
    log(`etcd pid ${etcd.pid} on ${etcdUrl}`);
    await waitFor('etcd /health', async () => {
      if (etcd.hasExited()) throw new WaitAbortedError(`etcd exited:\n${etcd.tail()}`);
      const res = await fetch(`${etcdUrl}/health`).catch(() => undefined);
      return res?.ok ? true : undefined;
    });

    // kube-apiserver
    const apiserver = startProcess(
      'kube-apiserver',
      apiserverBin,
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        // The endpoint reconciler refuses a loopback advertise address; no pod runs here to need the endpoints.
        '--endpoint-reconciler-type=none',
        `--secure-port=${apiPort}`,
        `--cert-dir=${join(dir, 'apiserver-certs')}`,
        `--tls-cert-file=${servingCrt}`,
        `--tls-private-key-file=${servingKey}`,
        `--client-ca-file=${caPath}`,
        '--authorization-mode=Node,RBAC',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${saPub}`,
        `--service-account-signing-key-file=${saKey}`,
        `--audit-policy-file=${auditPolicy}`,
        `--audit-log-path=${auditLogPath}`,
        '--audit-log-maxbackup=1',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
        ...(opts.apiserverArgs ?? []),
      ],
      { logPath: logs.apiserver },
    );
    procs.push(apiserver);
    log(`kube-apiserver pid ${apiserver.pid} on ${server}`);
    const tls = { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem };
    await waitFor(
      'kube-apiserver /readyz',
      async () => {
        if (apiserver.hasExited()) throw new WaitAbortedError(`kube-apiserver exited:\n${apiserver.tail()}`);
        const res = await httpsGet(`${server}/readyz`, tls).catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      },
      { timeoutMs: 120_000 },
    );

    // kube-controller-manager
    if (opts.controllerManager !== false) {
      const controllerManager = startProcess(
        'kube-controller-manager',
        kcmBin,
        [
          `--kubeconfig=${kcmKubeconfig}`,
          `--authentication-kubeconfig=${kcmKubeconfig}`,
          `--authorization-kubeconfig=${kcmKubeconfig}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${kcmPort}`,
          `--cert-dir=${join(dir, 'kcm-certs')}`,
          '--use-service-account-credentials=true',
          '--controllers=*',
          '--leader-elect=false',
          `--service-account-private-key-file=${saKey}`,
          `--root-ca-file=${caPath}`,
          `--cluster-signing-cert-file=${caPath}`,
          `--cluster-signing-key-file=${caKeyPath}`,
          '--profiling=false',
          '--v=1',
        ],
        { logPath: logs.controllerManager },
      );
      procs.push(controllerManager);
      log(`kube-controller-manager pid ${controllerManager.pid}`);
    }

    const client = clusterClient(info);
    if (opts.controllerManager !== false) {
      // Pods are refused until the ServiceAccount controller has made the namespace's default account.
      await waitForServiceAccount(client, 'default');
    }
    return { ...client, info, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// Waits until the `default` ServiceAccount exists in `namespace` (pods need it to pass admission).
export async function waitForServiceAccount(client: ClusterClient, namespace: string): Promise<void> {
  await waitFor(
    `serviceaccount default in ${namespace}`,
    async () => {
      const res = await client.kubectl(['get', 'serviceaccount', 'default', '-n', namespace, '-o', 'name']);
      return res.code === 0 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 300 },
  );
}
