import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under the `@aurora/source` condition, so tests
// run against src/ without a build; `tsc -b` still type-checks everything.
const conditions = ['@aurora/source', 'node', 'development|production'];
const exclude = ['**/node_modules/**', '**/dist/**', '.aurora/**'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@aurora/source'] } },
  test: {
    // Vitest's default is one worker per core but one, i.e. a single worker on CI's 2 cores, where most
    // integration tests wait on child processes, emulators and loopback servers: two files at a time
    // (a fresh clone's .ci/run on 2 cores: 21 min 28 s with one worker, 15 min 36 s with two, 881 tests).
    maxWorkers: Math.max(2, availableParallelism() - 1),
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
          exclude,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
