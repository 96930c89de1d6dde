import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { warehousePath } from '@aurora/engine';
import {
  type MachineHourTruth,
  type OeeFigures,
  type PlantModel,
  ProcurementModel,
  rollUp,
} from '@aurora/plant';
import { DuckDBInstance } from '@duckdb/node-api';

/** Gold must match the plant model within this relative difference (0.01 %). */
export const DEFAULT_TOLERANCE = 1e-4;

export interface ReconcileDifference {
  table: string;
  /** `augsburg/aug-m07/2026-11-23T07:00:00.000Z` */
  row: string;
  kpi: string;
  gold: number | null;
  truth: number | null;
  /** |gold - truth| / |truth|; Infinity where one side is missing or the truth is 0. */
  relativeDifference: number;
}

export interface ReconcileReport {
  seed: number;
  tolerance: number;
  compared: { hourly: number; daily: number; qualityDays: number; supplyDays: number; values: number };
  /** Every difference beyond the tolerance, worst first. */
  differences: ReconcileDifference[];
  ok: boolean;
}

const KPIS = [
  ['planned_time_s', 'plannedTimeS'],
  ['run_time_s', 'runTimeS'],
  ['ideal_output_s', 'idealOutputS'],
  ['total_count', 'totalCount'],
  ['good_count', 'goodCount'],
  ['availability', 'availability'],
  ['performance', 'performance'],
  ['quality', 'quality'],
  ['oee', 'oee'],
] as const satisfies readonly (readonly [string, keyof OeeFigures])[];

const HOUR_MS = 3_600_000;

export function relativeDifference(gold: number | null, truth: number | null): number {
  if (gold === null && truth === null) return 0;
  if (gold === null || truth === null) return Number.POSITIVE_INFINITY;
  if (gold === truth) return 0;
  return truth === 0 ? Number.POSITIVE_INFINITY : Math.abs(gold - truth) / Math.abs(truth);
}

const berlinDate = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Berlin',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The seed the local platform last ran the plant with (recorded by `aurora run`/`start`). */
export async function recordedSeed(home: string): Promise<number | undefined> {
  try {
    const seed = (JSON.parse(await readFile(join(home, 'plant.json'), 'utf8')) as { seed?: unknown }).seed;
    return typeof seed === 'number' && Number.isInteger(seed) ? seed : undefined;
  } catch {
    return undefined;
  }
}

export async function recordSeed(home: string, seed: number): Promise<void> {
  await writeFile(join(home, 'plant.json'), `${JSON.stringify({ seed })}\n`);
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const ratioOf = (a: number | null, b: number | null): number | null => (a === null || !b ? null : a / b);

/**
 * Compares gold with the plant model's ground truth: every complete machine-hour of gold.agg_oee_hourly
 * and every complete machine-day of gold.agg_oee_daily, KPI by KPI; every true machine-hour inside the
 * complete span that gold lacks; per facility and complete day the scrap and defect rates of
 * gold.agg_defect_rates_daily; and per facility and complete day the PO fulfilment and supplier lead time
 * of gold.agg_supply_chain_daily against the procurement model behind the SAP stand-in. Reads the warehouse the last medallion run left.
 */
export async function reconcileGold(
  home: string,
  plant: PlantModel,
  options: { tolerance?: number } = {},
): Promise<ReconcileReport> {
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const instance = await DuckDBInstance.create(warehousePath(home), { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const read = async (sql: string) =>
      (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    const hourly = await read(
      `SELECT facility_id, machine_id, epoch_ms(hour_start) AS hour_ms, ${KPIS.map(([c]) => c).join(', ')}
       FROM gold.agg_oee_hourly WHERE is_complete ORDER BY machine_id, hour_start`,
    );
    const daily = await read(
      `SELECT facility_id, machine_id, CAST(day AS VARCHAR) AS day, ${KPIS.map(([c]) => c).join(', ')}
       FROM gold.agg_oee_daily WHERE is_complete ORDER BY machine_id, day`,
    );
    const differences: ReconcileDifference[] = [];
    let values = 0;
    const compare = (table: string, row: string, gold: Record<string, unknown>, truth: OeeFigures) => {
      for (const [column, field] of KPIS) {
        values++;
        const g = num(gold[column]);
        const t = truth[field];
        const d = relativeDifference(g, t);
        if (d > tolerance)
          differences.push({ table, row, kpi: column, gold: g, truth: t, relativeDifference: d });
      }
    };

    // The truth of each machine over the span its complete hours cover, by hour.
    const spans = new Map<string, { facility: string; from: number; to: number }>();
    for (const h of hourly) {
      const machine = String(h['machine_id']);
      const at = Number(h['hour_ms']);
      const span = spans.get(machine) ?? { facility: String(h['facility_id']), from: at, to: at + HOUR_MS };
      span.from = Math.min(span.from, at);
      span.to = Math.max(span.to, at + HOUR_MS);
      spans.set(machine, span);
    }
    const truthByMachine = new Map<string, Map<number, MachineHourTruth>>();
    for (const [machine, span] of spans) {
      const hours = plant.machineHours(machine, new Date(span.from), new Date(span.to));
      truthByMachine.set(machine, new Map(hours.map((h) => [h.hourStart.getTime(), h])));
    }
    const seen = new Set<string>();
    for (const h of hourly) {
      const machine = String(h['machine_id']);
      const at = Number(h['hour_ms']);
      const row = `${h['facility_id']}/${machine}/${new Date(at).toISOString()}`;
      seen.add(`${machine}@${at}`);
      const truth = truthByMachine.get(machine)?.get(at);
      if (!truth) {
        differences.push({
          table: 'agg_oee_hourly',
          row,
          kpi: '(row)',
          gold: 1,
          truth: null,
          relativeDifference: Infinity,
        });
        continue;
      }
      compare('agg_oee_hourly', row, h, rollUp([truth]));
    }
    for (const [machine, truths] of truthByMachine) {
      for (const [at, truth] of truths) {
        if (seen.has(`${machine}@${at}`) || truth.plannedTimeS === 0) continue;
        differences.push({
          table: 'agg_oee_hourly',
          row: `${truth.facilityId}/${machine}/${new Date(at).toISOString()}`,
          kpi: '(row missing in gold)',
          gold: null,
          truth: truth.plannedTimeS,
          relativeDifference: Infinity,
        });
      }
    }

    // Days: the truth of every UTC hour whose Berlin date is the day. A complete day's hours are all
    // complete hours, so the truth already computed for them is reused.
    for (const d of daily) {
      const machine = String(d['machine_id']);
      const day = String(d['day']);
      const hours = [...(truthByMachine.get(machine)?.values() ?? [])].filter(
        (h) => berlinDate.format(h.hourStart) === day,
      );
      compare('agg_oee_daily', `${d['facility_id']}/${machine}/${day}`, d, rollUp(hours));
    }

    // Quality per facility and complete plant day: parts and scrap (from the postings), inspections and
    // not-OK inspections, and the two rates, against the model's quality truth of the same UTC span.
    const qualityDays = await read(
      `SELECT q.facility_id, CAST(q.day AS VARCHAR) AS day,
         sum(q.total_count) AS total_count, sum(q.scrap_count) AS scrap_count,
         sum(q.measured) AS measured, sum(q.not_ok) AS not_ok
       FROM gold.agg_defect_rates_daily AS q
       WHERE (q.facility_id, q.day) IN (
         SELECT facility_id, day FROM gold.agg_oee_daily GROUP BY ALL HAVING bool_and(is_complete))
       GROUP BY ALL ORDER BY 1, 2`,
    );
    for (const q of qualityDays) {
      const day = String(q['day']);
      const base = Date.parse(`${day}T00:00:00Z`);
      const hours = Array.from({ length: 30 }, (_, i) => base + (i - 3) * HOUR_MS).filter(
        (h) => berlinDate.format(new Date(h)) === day,
      );
      const truth = plant.quality(
        new Date(hours[0]!),
        new Date(hours.at(-1)! + HOUR_MS),
        String(q['facility_id']) as Parameters<PlantModel['quality']>[2],
      );
      const row = `${q['facility_id']}/${day}`;
      const pairs: [string, number | null, number | null][] = [
        ['total_count', num(q['total_count']), truth.totalCount],
        ['scrap_count', num(q['scrap_count']), truth.scrapCount],
        ['scrap_rate', ratioOf(num(q['scrap_count']), num(q['total_count'])), truth.scrapRate],
        ['measured', num(q['measured']), truth.measured],
        ['not_ok', num(q['not_ok']), truth.notOk],
        ['defect_rate', ratioOf(num(q['not_ok']), num(q['measured'])), truth.defectRate],
      ];
      for (const [kpi, g, t] of pairs) {
        values++;
        const d = relativeDifference(g, t);
        if (d > tolerance)
          differences.push({
            table: 'agg_defect_rates_daily',
            row,
            kpi,
            gold: g,
            truth: t,
            relativeDifference: d,
          });
      }
    }

    // Supply chain per facility and complete day: on-time-in-full fulfilment and supplier lead time
    // against the procurement model behind the SAP stand-in.
    const supplyDays = await read(
      `SELECT facility_id, CAST(day AS VARCHAR) AS day, scheduled_qty, delivered_qty, po_fulfilment_rate,
              receipts, supplier_lead_time_days
       FROM gold.agg_supply_chain_daily WHERE is_complete ORDER BY 1, 2`,
    );
    if (supplyDays.length > 0) {
      const days = supplyDays.map((d) => String(d['day'])).sort();
      const procurement = new ProcurementModel(plant);
      const sum = <T>(items: T[], f: (x: T) => number) => items.reduce((n, x) => n + f(x), 0);
      const fulfilment = procurement.fulfilmentTruth(days[0]!, days.at(-1)!);
      const leadTimes = procurement.leadTimeTruth(days[0]!, days.at(-1)!);
      for (const d of supplyDays) {
        const mine = <T extends { facilityId: string; day: string }>(xs: T[]) =>
          xs.filter((x) => x.facilityId === d['facility_id'] && x.day === d['day']);
        const due = mine(fulfilment);
        const receipts = mine(leadTimes);
        const ordered = sum(due, (x) => x.orderedQty);
        const received = sum(due, (x) => x.receivedByDueDayQty);
        const count = sum(receipts, (x) => x.receipts);
        const pairs: [string, number | null, number | null][] = [
          ['scheduled_qty', num(d['scheduled_qty']), ordered],
          ['delivered_qty', num(d['delivered_qty']), received],
          ['po_fulfilment_rate', num(d['po_fulfilment_rate']), ratioOf(received, ordered)],
          ['receipts', num(d['receipts']), count],
          [
            'supplier_lead_time_days',
            num(d['supplier_lead_time_days']),
            count ? sum(receipts, (x) => x.receipts * x.meanLeadTimeDays) / count : null,
          ],
        ];
        for (const [kpi, g, t] of pairs) {
          values++;
          const diff = relativeDifference(g, t);
          if (diff > tolerance) {
            differences.push({
              table: 'agg_supply_chain_daily',
              row: `${d['facility_id']}/${d['day']}`,
              kpi,
              gold: g,
              truth: t,
              relativeDifference: diff,
            });
          }
        }
      }
    }

    differences.sort((a, b) => b.relativeDifference - a.relativeDifference);
    return {
      seed: plant.seed,
      tolerance,
      compared: {
        hourly: hourly.length,
        daily: daily.length,
        qualityDays: qualityDays.length,
        supplyDays: supplyDays.length,
        values,
      },
      differences,
      ok: differences.length === 0 && hourly.length > 0,
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
