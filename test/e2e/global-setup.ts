// vitest globalSetup for the e2e suite: builds the Go tools if needed, starts the control plane, provides its info.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startCluster, type ClusterInfo } from './cluster.js';
import { REPO_ROOT } from './portcullis.js';
import { haveTools } from './tools.js';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
  }
}

const CONTROL_PLANE = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl'] as const;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.PORTCULLIS_E2E_NO_BUILD !== '1' || !haveTools([...CONTROL_PLANE])) {
    // Checks stamps and returns at once when the pinned versions are built; the first build takes a while
    // on 2 cores (see docs/e2e.md).
    const res = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'go-tools.sh'), 'kubernetes', 'etcd'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (res.status !== 0) throw new Error(`expected scripts/go-tools.sh to exit 0, got ${res.status ?? res.signal}`);
  }
  const started = Date.now();
  const cluster = await startCluster({ log: (m) => console.log(`[e2e cluster] ${m}`) });
  console.log(`[e2e cluster] ready in ${((Date.now() - started) / 1000).toFixed(1)}s at ${cluster.server} (dir ${cluster.dir})`);
  project.provide('cluster', cluster.info);
  return async () => {
    await cluster.stop();
  };
}
