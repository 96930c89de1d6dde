import { plantDayBounds } from '@aurora/plant';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import type { Role } from './auth.js';
import { type ApiContext, requireFacility } from './context.js';
import { defineEndpoint } from './endpoint.js';
import type { GoldRow } from './gold-reader.js';
import { ApiProblem } from './problem.js';
import { facilityIdSchema, isoDate, isoInstant, machineIdSchema, materialIdSchema } from './schemas.js';
import { isTrue, join, limit, PlainDate, type Statement, sql } from './statement.js';

/** SPC points per report at most; a longer report says `spc_truncated`. */
export const MAX_SPC_POINTS = 5000;
const MAX_DAYS = 92;

export const qualityReportRequestSchema = z
  .strictObject({
    facility_id: facilityIdSchema,
    from: isoDate.meta({ description: 'first plant-local day (Europe/Berlin)' }),
    to: isoDate.meta({ description: 'last plant-local day, inclusive' }),
    machine_id: machineIdSchema.optional(),
    material_id: materialIdSchema.optional(),
    characteristic: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,39}$/)
      .optional(),
  })
  .meta({ id: 'QualityReportRequest' });

const rate = z.number().min(0).max(1).nullable();
const defectCounts = {
  total_count: z.number().int().min(0),
  scrap_count: z.number().int().min(0),
  scrap_rate: rate,
  measured: z.number().int().min(0),
  not_ok: z.number().int().min(0),
  defect_rate: rate,
};
const RULES = [1, 2, 3, 4] as const;

export const qualityReportSchema = z
  .object({
    facility_id: z.string(),
    from: isoDate,
    to: isoDate,
    defect_rates: z.object({
      total: z.object(defectCounts),
      by_day: z.array(z.object({ day: isoDate, ...defectCounts })),
      by_machine: z.array(
        z.object({ machine_id: z.string(), material_id: z.string().nullable(), ...defectCounts }),
      ),
    }),
    spc: z.array(
      z
        .object({
          machine_id: z.string(),
          material_id: z.string(),
          characteristic: z.string(),
          center_line: z.number(),
          ucl_x: z.number(),
          lcl_x: z.number(),
          r_bar: z.number(),
          ucl_r: z.number(),
          lcl_r: z.number(),
          capability: z
            .object({
              measurements: z.number().int(),
              subgroups: z.number().int(),
              mean: z.number(),
              lsl: z.number().nullable(),
              usl: z.number().nullable(),
              cp: z.number().nullable(),
              cpk: z.number().nullable(),
              pp: z.number().nullable(),
              ppk: z.number().nullable(),
            })
            .nullable()
            .meta({
              description: 'over the whole stream (gold.spc_capability); null below 5 subgroups of 5',
            }),
          violations: z
            .number()
            .int()
            .min(0)
            .meta({ description: 'points in the range breaking any Western Electric rule' }),
          points: z.array(
            z.object({
              subgroup: z.number().int(),
              first_at: isoInstant,
              last_at: isoInstant,
              xbar: z.number(),
              r: z.number(),
              rules: z
                .array(z.number().int().min(1).max(4))
                .meta({ description: 'Western Electric rules broken (1-4)' }),
            }),
          ),
        })
        .meta({ id: 'SpcStream' }),
    ),
    spc_truncated: z.boolean(),
    pareto: z.array(
      z.object({
        defect_code: z.string(),
        defects: z.number().int(),
        rank: z.number().int().min(1),
        share: z.number().min(0).max(1),
        cumulative_share: z.number().min(0).max(1),
      }),
    ),
  })
  .meta({ id: 'QualityReport' });
type QualityReport = z.infer<typeof qualityReportSchema>;

const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function defectFigures(rows: GoldRow[]) {
  const total_count = rows.reduce((s, r) => s + num(r['total_count']), 0);
  const scrap_count = rows.reduce((s, r) => s + num(r['scrap_count']), 0);
  const measured = rows.reduce((s, r) => s + num(r['measured']), 0);
  const not_ok = rows.reduce((s, r) => s + num(r['not_ok']), 0);
  return {
    total_count,
    scrap_count,
    scrap_rate: total_count > 0 ? scrap_count / total_count : null,
    measured,
    not_ok,
    defect_rate: measured > 0 ? not_ok / measured : null,
  };
}

function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    out.set(k, [...(out.get(k) ?? []), r]);
  }
  return out;
}

/**
 * A text cell a spreadsheet would run as a formula (`=cmd|' /C calc'!A0`, `+`, `-`, `@`, a leading tab or
 * CR, and their full-width forms), quoted with a leading apostrophe as OWASP's CSV-injection advice says.
 * Codes and ids come from the sources: a MES could put anything in a defect code. Numbers stay numbers.
 */
export function csvText(value: string | number | null): string | number | null {
  return typeof value === 'string' && /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/.test(value)
    ? `'${value}`
    : value;
}

/** The report as one long CSV table: section, keys, metric, value (one reader parses every section). */
export function qualityReportCsv(report: QualityReport): string {
  const rows: (string | number | null)[][] = [];
  const push = (
    section: string,
    keys: Record<string, string | number | null>,
    metrics: Record<string, unknown>,
  ) => {
    for (const [metric, value] of Object.entries(metrics))
      if (typeof value === 'number' || value === null)
        rows.push([
          section,
          keys['day'] ?? null,
          keys['machine_id'] ?? null,
          keys['material_id'] ?? null,
          keys['characteristic'] ?? null,
          keys['defect_code'] ?? null,
          keys['subgroup'] ?? null,
          metric,
          value,
        ]);
  };
  push('defect_rates_total', {}, report.defect_rates.total);
  for (const d of report.defect_rates.by_day) push('defect_rates_by_day', { day: d.day }, d);
  for (const m of report.defect_rates.by_machine)
    push('defect_rates_by_machine', { machine_id: m.machine_id, material_id: m.material_id }, m);
  for (const s of report.spc) {
    const keys = { machine_id: s.machine_id, material_id: s.material_id, characteristic: s.characteristic };
    push('spc_limits', keys, {
      center_line: s.center_line,
      ucl_x: s.ucl_x,
      lcl_x: s.lcl_x,
      r_bar: s.r_bar,
      ucl_r: s.ucl_r,
      lcl_r: s.lcl_r,
      violations: s.violations,
    });
    if (s.capability) push('spc_capability', keys, s.capability);
    for (const p of s.points)
      push(
        'spc_point',
        { ...keys, subgroup: p.subgroup },
        { xbar: p.xbar, r: p.r, rules_broken: p.rules.length },
      );
  }
  for (const p of report.pareto) push('pareto', { defect_code: p.defect_code }, p);
  return stringify(
    rows.map((row) => row.map(csvText)),
    {
      header: true,
      columns: [
        'section',
        'day',
        'machine_id',
        'material_id',
        'characteristic',
        'defect_code',
        'subgroup',
        'metric',
        'value',
      ],
    },
  );
}

const ANALYSTS: readonly Role[] = ['platform-admin', 'data-engineer', 'analyst'];

/** POST /quality/reports */
export const qualityReportEndpoint = (ctx: ApiContext) =>
  defineEndpoint({
    name: 'createQualityReport',
    method: 'POST',
    path: '/quality/reports',
    summary: 'A quality report: defect rates, SPC (X-bar/R, rules, Cp/Cpk) and the Pareto of defect reasons',
    description:
      'For a facility and a range of plant-local days (at most 92), optionally one machine, material or characteristic: scrap and defect rates from summed counts (gold.agg_defect_rates_daily), the X-bar/R points of every stream with their Western Electric rule violations and capability (gold.spc_xbar_r, gold.spc_capability), and the Pareto of defect reasons (gold.fact_quality). JSON, or CSV with Accept: text/csv. Computed on request, not stored: the answer is 200.',
    roles: ANALYSTS,
    body: qualityReportRequestSchema,
    response: qualityReportSchema,
    errors: [404, 413, 415],
    csv: qualityReportCsv as (r: unknown) => string,
    async handle({ body, principal }) {
      requireFacility(ctx, principal, body.facility_id);
      if (body.from > body.to) throw new ApiProblem(400, 'window.invalid', '"from" must not be after "to"');
      const fromAt = plantDayBounds(body.from).startAt;
      const toAt = plantDayBounds(body.to).endAt;
      if ((toAt.getTime() - fromAt.getTime()) / 86_400_000 > MAX_DAYS + 1)
        throw new ApiProblem(400, 'window.too_long', `a report spans at most ${MAX_DAYS} days`);
      const filters: Statement[] = [];
      if (body.machine_id) filters.push(sql` AND machine_id = ${body.machine_id}`);
      if (body.material_id) filters.push(sql` AND material_id = ${body.material_id}`);
      const streamFilters = [...filters];
      if (body.characteristic) streamFilters.push(sql` AND characteristic = ${body.characteristic}`);
      const f = join(filters, '');
      const sf = join(streamFilters, '');
      const dayRange = sql`day >= ${new PlainDate(body.from)} AND day <= ${new PlainDate(body.to)}`;
      const [rates, pareto, points, capability] = await Promise.all([
        ctx.gold.query(sql`SELECT day, machine_id, material_id, total_count, scrap_count, measured, not_ok
FROM gold.agg_defect_rates_daily WHERE facility_id = ${body.facility_id} AND ${dayRange}${f}
ORDER BY day, machine_id, material_id`),
        ctx.gold.query(sql`SELECT coalesce(defect_code, 'UNSPECIFIED') AS defect_code, count(*) AS defects
FROM gold.fact_quality WHERE facility_id = ${body.facility_id} AND ${dayRange} AND NOT (${isTrue('ok')})${sf}
GROUP BY coalesce(defect_code, 'UNSPECIFIED')`),
        ctx.gold.query(sql`SELECT machine_id, material_id, characteristic, subgroup, first_at, last_at, xbar, r,
  center_line, ucl_x, lcl_x, r_bar, ucl_r, lcl_r, rule_1, rule_2, rule_3, rule_4
FROM gold.spc_xbar_r WHERE facility_id = ${body.facility_id} AND last_at >= ${fromAt} AND first_at < ${toAt}${sf}
ORDER BY machine_id, material_id, characteristic, subgroup${limit(MAX_SPC_POINTS + 1)}`),
        ctx.gold.query(sql`SELECT machine_id, material_id, characteristic, measurements, subgroups, mean, lsl, usl, cp, cpk, pp, ppk
FROM gold.spc_capability WHERE facility_id = ${body.facility_id}${sf}`),
      ]);
      const byDay = [...groupBy(rates, (r) => String(r['day']))].map(([day, rows]) => ({
        day,
        ...defectFigures(rows),
      }));
      const byMachine = [...groupBy(rates, (r) => `${r['machine_id']}\u0000${r['material_id'] ?? ''}`)]
        .map(([, rows]) => ({
          machine_id: String(rows[0]!['machine_id']),
          material_id: rows[0]!['material_id'] === null ? null : String(rows[0]!['material_id']),
          ...defectFigures(rows),
        }))
        .sort(
          (a, b) =>
            a.machine_id.localeCompare(b.machine_id) ||
            String(a.material_id).localeCompare(String(b.material_id)),
        );
      const capabilityOf = new Map(
        capability.map((c) => [`${c['machine_id']}|${c['material_id']}|${c['characteristic']}`, c]),
      );
      const shown = points.slice(0, MAX_SPC_POINTS);
      const spc = [
        ...groupBy(shown, (p) => `${p['machine_id']}|${p['material_id']}|${p['characteristic']}`),
      ].map(([key, rows]) => {
        const first = rows[0]!;
        const c = capabilityOf.get(key);
        const mapped = rows.map((p) => ({
          subgroup: num(p['subgroup']),
          first_at: String(p['first_at']),
          last_at: String(p['last_at']),
          xbar: num(p['xbar']),
          r: num(p['r']),
          rules: RULES.filter((n) => p[`rule_${n}`] === true),
        }));
        return {
          machine_id: String(first['machine_id']),
          material_id: String(first['material_id']),
          characteristic: String(first['characteristic']),
          center_line: num(first['center_line']),
          ucl_x: num(first['ucl_x']),
          lcl_x: num(first['lcl_x']),
          r_bar: num(first['r_bar']),
          ucl_r: num(first['ucl_r']),
          lcl_r: num(first['lcl_r']),
          capability: c
            ? {
                measurements: num(c['measurements']),
                subgroups: num(c['subgroups']),
                mean: num(c['mean']),
                lsl: numOrNull(c['lsl']),
                usl: numOrNull(c['usl']),
                cp: numOrNull(c['cp']),
                cpk: numOrNull(c['cpk']),
                pp: numOrNull(c['pp']),
                ppk: numOrNull(c['ppk']),
              }
            : null,
          violations: mapped.filter((p) => p.rules.length > 0).length,
          points: mapped,
        };
      });
      const defectsTotal = pareto.reduce((s, p) => s + num(p['defects']), 0);
      let cumulative = 0;
      const paretoRows = pareto
        .map((p) => ({ defect_code: String(p['defect_code']), defects: num(p['defects']) }))
        .sort((a, b) => b.defects - a.defects || a.defect_code.localeCompare(b.defect_code))
        .map((p, i) => {
          cumulative += p.defects;
          return {
            ...p,
            rank: i + 1,
            share: p.defects / defectsTotal,
            cumulative_share: Math.min(1, cumulative / defectsTotal),
          };
        });
      return {
        facility_id: body.facility_id,
        from: body.from,
        to: body.to,
        defect_rates: { total: defectFigures(rates), by_day: byDay, by_machine: byMachine },
        spc,
        spc_truncated: points.length > MAX_SPC_POINTS,
        pareto: paretoRows,
      };
    },
  });
