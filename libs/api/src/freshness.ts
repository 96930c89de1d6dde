import type { SourceStatus } from '@aurora/lake';
import { z } from 'zod';
import type { Role } from './auth.js';
import type { ApiContext } from './context.js';
import { defineEndpoint } from './endpoint.js';
import { isoInstant } from './schemas.js';

/** Freshness SLAs per source, in seconds (ARCHITECTURE §6): IoT as configured, SAP hourly so 90 min, else 30 min. */
export const slaSeconds = (source: string, iotSlaS: number): number =>
  source === 'iot' ? iotSlaS : source === 'sap' ? 90 * 60 : 30 * 60;

export const sourceFreshnessSchema = z
  .object({
    source: z.string(),
    lastRunAt: isoInstant.nullable(),
    lastSuccessAt: isoInstant.nullable(),
    lastError: z.string().nullable(),
    rowsLandedTotal: z.number().int(),
    lastRunRows: z.number().int(),
    deadLetteredTotal: z.number().int(),
    latestEventAt: isoInstant.nullable(),
    freshnessS: z.number().int().nullable().meta({ description: 'age of the newest event landed' }),
    slaS: z.number().int(),
    withinSla: z.boolean(),
  })
  .meta({ id: 'SourceFreshness' });

/** Per source: what the status store says and its freshness against its SLA (what `aurora status` prints). */
export function sourceFreshness(
  stored: readonly SourceStatus[],
  now: Date,
  options: { knownSources: readonly string[]; iotSlaS: number },
): z.infer<typeof sourceFreshnessSchema>[] {
  const sources = [...new Set([...options.knownSources, ...stored.map((s) => s.source)])].sort();
  return sources.map((source) => {
    const s = stored.find((x) => x.source === source);
    const slaS = slaSeconds(source, options.iotSlaS);
    const freshnessS = s?.latestEventAt
      ? Math.max(0, Math.round((now.getTime() - Date.parse(s.latestEventAt)) / 1000))
      : null;
    return {
      source,
      lastRunAt: s?.lastRunAt ?? null,
      lastSuccessAt: s?.lastSuccessAt ?? null,
      lastError: s?.lastError ?? null,
      rowsLandedTotal: s?.rowsLandedTotal ?? 0,
      lastRunRows: s?.lastRunRows ?? 0,
      deadLetteredTotal: s?.deadLetteredTotal ?? 0,
      latestEventAt: s?.latestEventAt ?? null,
      freshnessS,
      slaS,
      withinSla: freshnessS !== null && freshnessS <= slaS,
    };
  });
}

const OPERATORS: readonly Role[] = ['platform-admin', 'data-engineer'];

/** GET /freshness */
export const freshnessEndpoint = (ctx: ApiContext) =>
  defineEndpoint({
    name: 'getFreshness',
    method: 'GET',
    path: '/freshness',
    summary: 'Per source: last success, rows landed, and freshness against its SLA',
    description:
      'The source status store, as `aurora status --json` prints it. A caller restricted to facilities sees the MES of its own facilities and the plant-wide sources.',
    roles: OPERATORS,
    response: z.object({ at: isoInstant, sources: z.array(sourceFreshnessSchema) }).meta({ id: 'Freshness' }),
    async handle({ principal }) {
      const now = ctx.clock.now();
      const all = sourceFreshness(await ctx.sourceStatus.list(), now, ctx);
      const allowed = principal?.facilities ?? 'all';
      const sources =
        allowed === 'all'
          ? all
          : all.filter(
              (s) => !s.source.startsWith('mes-') || allowed.includes(s.source.slice('mes-'.length)),
            );
      return { at: now.toISOString(), sources };
    },
  });
