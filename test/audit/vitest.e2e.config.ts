import { defineConfig } from 'vitest/config';

// Only the audit/scan end-to-end tests (the main suite's vitest.e2e.config.ts also runs them once its include has
// test/audit/**/*.e2e.test.ts): npx vitest run --config test/audit/vitest.e2e.config.ts
export default defineConfig({
  test: {
    include: ['test/audit/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
  },
});
