import { defineConfig } from 'vitest/config';

// End-to-end suite: a real etcd + kube-apiserver + kube-controller-manager (see docs/e2e.md).
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts', 'test/packaging/**/*.e2e.test.ts', 'test/audit/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    setupFiles: ['test/helpers/cel-compiler.setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
  },
});
