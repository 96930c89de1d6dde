import type { Clock } from '@aurora/core';
import { type FunctionApp, httpFunction } from '@aurora/runtime';

export interface ApiDeps {
  clock: Clock;
  version: string;
}

/**
 * The api Function App's table. This issue brings only the liveness probe; the partner endpoints
 * (production/oee, inventory/alerts, quality/reports, machines/{id}/health) join this table with the
 * medallion.
 */
export function apiApp(deps: ApiDeps): FunctionApp {
  return {
    name: 'api',
    functions: [
      httpFunction('health', { route: 'v1/health', methods: ['GET'], authLevel: 'anonymous' }, async () => ({
        status: 200,
        jsonBody: { status: 'ok', version: deps.version, time: deps.clock.now().toISOString() },
        headers: { 'cache-control': 'no-store' },
      })),
    ],
  };
}
