import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'parsers/**/*.test.ts', 'reconcile/**/*.test.ts', 'reports/**/*.test.ts', 'jobs/**/*.test.ts', 'core/**/*.test.ts', 'ledger/**/*.test.ts', 'storage/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globals: false,
  },
});
