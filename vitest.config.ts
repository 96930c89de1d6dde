import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under the `@aurora/source` condition, so tests
// run against src/ without a build; `tsc -b` still type-checks everything.
const conditions = ['@aurora/source', 'node', 'development|production'];
const exclude = ['**/node_modules/**', '**/dist/**', '.aurora/**'];
// The fault-injection suite (test/faults) joins `pnpm test` once a whole CI run with it has been measured
// against the 30-minute budget; until then it runs with `pnpm test:faults` (or FAULTS=1 pnpm test).
const faults = process.env['FAULTS'] || process.env['FAULTS_FULL'] ? [] : ['test/faults/**'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@aurora/source'] } },
  test: {
    // Workspace packages are compiled by Vite from their sources, never loaded from a stale dist/.
    server: { deps: { inline: [/@aurora\//] } },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{libs,functions,azurite,infra}/**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts', 'test/**/*.test.ts'],
          exclude: [...exclude, ...faults],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
