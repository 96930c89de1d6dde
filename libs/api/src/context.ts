import type { Clock } from '@aurora/core';
import type { SourceStatus } from '@aurora/lake';
import type { AuditLog, Guardian, KeyRing } from '@aurora/privacy';
import { canSeeFacility, type Principal } from './auth.js';
import type { GoldReader } from './gold-reader.js';
import { ApiProblem } from './problem.js';

/**
 * Personal data: the key ring that opens sealed values, the append-only audit log every opening is written
 * to, and Guardian (data-subject requests) searching the API's own gold reader.
 */
export interface ApiPrivacy {
  ring: KeyRing;
  audit: AuditLog;
  guardian: Guardian;
}

/** What the endpoints read from: gold, the source status store, the plant's facilities and the clock. */
export interface ApiContext {
  gold: GoldReader;
  clock: Clock;
  /** The facility ids that exist (the plant catalogue). */
  facilities: readonly string[];
  sourceStatus: { list(): Promise<SourceStatus[]> };
  /** Sources expected even before their first run (iot, mes-<facility>, sap, oracle-erp). */
  knownSources: readonly string[];
  /** The IoT freshness SLA (AURORA_IOT_SLA_S); MES and ERP 30 min, SAP 90 min. */
  iotSlaS: number;
  /** Absent where no key ring is configured: endpoints that need it answer 503 `privacy.unavailable`. */
  privacy?: ApiPrivacy;
}

/** 404 for a facility that does not exist, 403 for one the caller may not see (in that order). */
export function requireFacility(ctx: ApiContext, principal: Principal | undefined, facility: string): void {
  if (!ctx.facilities.includes(facility))
    throw new ApiProblem(404, 'facility.not_found', `there is no facility "${facility}"`);
  if (principal && !canSeeFacility(principal, facility))
    throw new ApiProblem(403, 'facility.forbidden', `your token does not grant facility "${facility}"`);
}

/** An instant from a query parameter (a date means its UTC midnight). */
export const toInstant = (value: string): Date =>
  new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);

/** A [from, to) window from optional parameters: `to` defaults to now, `from` to `defaultS` before it. */
export function resolveWindow(
  ctx: ApiContext,
  query: { from?: string | undefined; to?: string | undefined },
  defaultS: number,
  maxS: number,
): { from: Date; to: Date } {
  const to = query.to ? toInstant(query.to) : ctx.clock.now();
  const from = query.from ? toInstant(query.from) : new Date(to.getTime() - defaultS * 1000);
  if (!(from < to)) throw new ApiProblem(400, 'window.invalid', '"from" must be before "to"');
  if (to.getTime() - from.getTime() > maxS * 1000)
    throw new ApiProblem(400, 'window.too_long', `the window may span at most ${maxS / 86_400} days`);
  return { from, to };
}
