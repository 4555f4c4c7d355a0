import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['policies/**/*.test.ts', 'src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/e2e/**', '**/*.e2e.test.ts', 'node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    setupFiles: ['test/helpers/cel-compiler.setup.ts'],
  },
});
