import { describe, expect, it, vi } from 'vitest';

const registered: Record<string, { schedule?: string; extraInputs?: { type: string }[] }> = {};
vi.mock('@azure/functions', async (original) => {
  const o = await original<typeof import('@azure/functions')>();
  return {
    ...o,
    app: {
      ...o.app,
      timer: (name: string, options: (typeof registered)[string]) => {
        registered[name] = options;
      },
    },
  };
});

describe('the orchestrator app in Azure', () => {
  it('registers medallionTimer every quarter hour with a Durable client, without reading config on import', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    await import('./index.js');
    expect(registered['medallionTimer']?.schedule).toBe('0 */15 * * * *');
    expect(registered['medallionTimer']?.extraInputs?.map((i) => i.type)).toEqual(['durableClient']);
  });
});
