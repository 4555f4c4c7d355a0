import { defineConfig } from 'vitest/config';

// The packaging e2e tests alone, on the e2e control plane: npx vitest run --config test/packaging/vitest.e2e.config.ts
// (npm run test:e2e runs them too once vitest.e2e.config.ts includes test/packaging/**/*.e2e.test.ts).
export default defineConfig({
  test: {
    include: ['test/packaging/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
