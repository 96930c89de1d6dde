import type { InvocationContext, Timer } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { SAP_FUNCTIONS, type SapDeps, sapApp } from './functions.js';

const ctx = { log: () => {} } as unknown as InvocationContext;
const timer = {} as Timer;

describe('the sap Function App', () => {
  it('has the hourly transactional and the nightly master-data timers, under the names infra alerts on', () => {
    const app = sapApp(async () => ({}) as SapDeps);
    expect(app.name).toBe('sap');
    expect(app.functions.map((f) => [f.name, f.trigger])).toEqual([
      ['ingestSapTransactional', { type: 'timer', schedule: '0 0 * * * *' }],
      ['ingestSapMaster', { type: 'timer', schedule: '0 30 2 * * *' }],
    ]);
    expect(SAP_FUNCTIONS.transactional.name).toBe('ingestSapTransactional');
  });

  it('fails an invocation naming the setting when SAP is not configured', async () => {
    const app = sapApp(async () => ({ ingestion: {} as SapDeps['ingestion'], pool: undefined }));
    const handler = app.functions[0]!.handler as (t: Timer, c: InvocationContext) => Promise<void>;
    await expect(handler(timer, ctx)).rejects.toMatchObject({
      code: 'config.invalid',
      message: expect.stringContaining('AURORA_SAP_ASHOST'),
    });
  });
});
