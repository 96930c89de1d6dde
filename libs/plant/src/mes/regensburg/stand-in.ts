import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '@aurora/core';
import { DateTime } from 'luxon';
import type { ShiftName } from '../../shift-calendar.js';
import { withClockSkew } from '../clock-skew.js';
import { type MesEntity, MesFaults, type MesStandIn } from '../faults.js';
import { serveOnLoopback } from '../loopback-server.js';
import type {
  MachineState,
  MeasurementRecord,
  MesDataSource,
  OrderRecord,
  OrderStatus,
  StateRecord,
} from '../records.js';

/**
 * The stand-in for the Regensburg plant's home-grown MES: `GET /api/{productionOrders|machineStates|
 * qualityMeasurements}` with HTTP Basic authentication, each answering ONE JSON array of everything the
 * MES keeps online (no paging, no filtering, no deltas), with German snake_case fields, epoch-millisecond
 * times and decimal-comma measurement strings. docs/mes/regensburg.md describes the wire format.
 */

export const REGENSBURG_FACILITY_ID = 'regensburg';
export const REGENSBURG_TIME_ZONE = 'Europe/Berlin';
export const REGENSBURG_REALM = 'MES Regensburg';
/** How long the MES keeps records online after their last change, by default. */
export const REGENSBURG_DEFAULT_RETENTION_H = 72;
/** The secret holding the Basic-auth password, and the name the stand-in's credentials are exposed under. */
const PASSWORD_SECRET = 'mes-regensburg-password';

/** The endpoint of each entity. */
export const REGENSBURG_API_PATHS: Readonly<Record<MesEntity, string>> = {
  production_orders: '/api/productionOrders',
  machine_states: '/api/machineStates',
  quality_measurements: '/api/qualityMeasurements',
};

export type RegensburgOrderStatus = 'GEPLANT' | 'LAEUFT' | 'FERTIG';
/** `auftrag.status` by canonical order status. */
export const REGENSBURG_ORDER_STATUSES: Readonly<Record<OrderStatus, RegensburgOrderStatus>> = {
  released: 'GEPLANT',
  in_progress: 'LAEUFT',
  completed: 'FERTIG',
};

export type RegensburgMachineState =
  | 'PRODUKTION'
  | 'LANGSAM'
  | 'KURZSTOPP'
  | 'STOERUNG'
  | 'RUESTEN'
  | 'WARTUNG'
  | 'PAUSE'
  | 'KEINE_SCHICHT'
  | 'KEIN_AUFTRAG';
/** `maschinenzustand.zustand` by canonical machine state (one to one). */
export const REGENSBURG_MACHINE_STATES: Readonly<Record<MachineState, RegensburgMachineState>> = {
  running: 'PRODUKTION',
  reduced_speed: 'LANGSAM',
  micro_stop: 'KURZSTOPP',
  failure: 'STOERUNG',
  setup: 'RUESTEN',
  maintenance: 'WARTUNG',
  break: 'PAUSE',
  no_shift: 'KEINE_SCHICHT',
  no_order: 'KEIN_AUFTRAG',
};

export type RegensburgShiftName = 'Frueh' | 'Spaet' | 'Nacht';
/** `schicht.name` by canonical shift: early 06-14, late 14-22, night 22-06 (plant-local). */
export const REGENSBURG_SHIFTS: Readonly<Record<ShiftName, RegensburgShiftName>> = {
  early: 'Frueh',
  late: 'Spaet',
  night: 'Nacht',
};

/** `messung.bewertung`: in order (within the limits) or not. */
export const REGENSBURG_RESULTS = { ok: 'OK', notOk: 'NIO' } as const;

/** The field the `new_field` fault adds to every record. */
export const REGENSBURG_FAULT_FIELD = 'kostenstelle';

export interface RegensburgCredentials {
  username: string;
  'mes-regensburg-password': string;
}

export interface RegensburgStandInOptions {
  data: MesDataSource;
  clock: Clock;
  /** Default 0: any free port on 127.0.0.1. */
  port?: number;
  /** Default: a random user name and password. */
  credentials?: Partial<RegensburgCredentials>;
  /** Records older than this (by last change) are no longer online; default 72 h. */
  retentionH?: number;
  faults?: MesFaults;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * The MES's order number for a canonical order id: `FA-<year>-<10 digits>`, the year that of the plant day
 * in the model's id (`rgb-m07-20261123-e01`, `0000` when the id holds no date), the digits from a hash of
 * the id. Stable, and the same wherever the order is referred to (orders, states, measurements).
 */
export function regensburgOrderNumber(orderId: string): string {
  const year = /(\d{4})\d{4}/.exec(orderId)?.[1] ?? '0000';
  const n = sha256(`auftrag|${orderId}`).readBigUInt64BE(0) % 10_000_000_000n;
  return `FA-${year}-${n.toString().padStart(10, '0')}`;
}

/** The MES's `messung_id` for a canonical measurement id: a 53-bit integer from a hash (a safe JSON number). */
export function regensburgMeasurementId(measurementId: string): number {
  return Number(sha256(`messung|${measurementId}`).readBigUInt64BE(0) >> 11n);
}

/** Millimetres as the MES prints them: four decimals, decimal comma (`12,0340`). */
export function regensburgDecimal(mm: number): string {
  return mm.toFixed(4).replace('.', ',');
}

/**
 * The shift an instant falls in, plant-local: early 06-14, late 14-22, night 22-06, the night belonging
 * to the day it started on.
 */
export function regensburgShift(at: Date): { name: RegensburgShiftName; datum: string } {
  const local = DateTime.fromJSDate(at, { zone: REGENSBURG_TIME_ZONE });
  const day = local.startOf('day');
  if (local.hour >= 6 && local.hour < 14) return { name: REGENSBURG_SHIFTS.early, datum: day.toISODate()! };
  if (local.hour >= 14 && local.hour < 22) return { name: REGENSBURG_SHIFTS.late, datum: day.toISODate()! };
  const started = local.hour < 6 ? day.minus({ days: 1 }) : day;
  return { name: REGENSBURG_SHIFTS.night, datum: started.toISODate()! };
}

type Json = string | number | boolean | null | Json[] | { [name: string]: Json };
type Row = { [name: string]: Json };

const epochMs = (at: Date | undefined): number | null => (at === undefined ? null : at.getTime());

function renderOrder(o: OrderRecord): Row {
  return {
    auftragsnummer: regensburgOrderNumber(o.orderId),
    maschine: o.machineId,
    artikel: o.materialId,
    menge_soll: o.plannedQty,
    menge_gut: o.goodCount,
    menge_ausschuss: o.scrapCount,
    status: REGENSBURG_ORDER_STATUSES[o.status],
    taktzeit_soll_ms: Math.round(o.idealCycleTimeS * 1000),
    start_geplant: epochMs(o.plannedStartAt),
    ende_geplant: epochMs(o.plannedEndAt),
    start_ist: epochMs(o.actualStartAt),
    ende_ist: epochMs(o.actualEndAt),
    buchungen: o.postings.map((p) => ({
      zeitpunkt: p.postedAt.getTime(),
      menge_gut: p.goodCount,
      menge_ausschuss: p.scrapCount,
    })),
    geaendert_am: epochMs(o.updatedAt),
  };
}

function renderState(s: StateRecord): Row {
  return {
    maschine: s.machineId,
    zustand: REGENSBURG_MACHINE_STATES[s.state],
    grund: s.reasonCode ?? null,
    auftragsnummer: s.orderId === undefined ? null : regensburgOrderNumber(s.orderId),
    von: epochMs(s.startAt),
    bis: epochMs(s.endAt),
    leistung_prozent: s.speedFactor === undefined ? null : Math.round(s.speedFactor * 1000) / 10,
    schicht: regensburgShift(s.startAt),
    geaendert_am: epochMs(s.updatedAt),
  };
}

function renderMeasurement(m: MeasurementRecord): Row {
  return {
    messung_id: regensburgMeasurementId(m.measurementId),
    auftragsnummer: regensburgOrderNumber(m.orderId),
    maschine: m.machineId,
    artikel: m.materialId,
    merkmal: m.characteristic,
    sollwert: regensburgDecimal(m.nominal),
    untere_grenze: regensburgDecimal(m.lsl),
    obere_grenze: regensburgDecimal(m.usl),
    messwert: regensburgDecimal(m.value),
    einheit: m.unit,
    bewertung: m.ok ? REGENSBURG_RESULTS.ok : REGENSBURG_RESULTS.notOk,
    fehlercode: m.defectCode ?? null,
    gemessen_am: epochMs(m.measuredAt),
    geaendert_am: epochMs(m.updatedAt),
  };
}

/** The MES lists by last change, then by its key: a stable order, so the same data gives the same bytes. */
function byChange(a: { at: number; key: string }, b: { at: number; key: string }): number {
  return a.at - b.at || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

function rowsOf(entity: MesEntity, data: MesDataSource, now: Date, since: Date): Row[] {
  const snapshot = data.snapshot(REGENSBURG_FACILITY_ID, now, since);
  const online = <T extends { updatedAt: Date }>(records: T[]) =>
    records.filter((r) => r.updatedAt.getTime() >= since.getTime());
  const sorted = <T>(records: T[], at: (r: T) => Date, key: (r: T) => string) =>
    records
      .map((r) => ({ r, at: at(r).getTime(), key: key(r) }))
      .sort(byChange)
      .map((x) => x.r);
  switch (entity) {
    case 'production_orders':
      return sorted(
        online(snapshot.orders),
        (o) => o.updatedAt,
        (o) => o.orderId,
      ).map(renderOrder);
    case 'machine_states':
      return sorted(
        online(snapshot.machineStates),
        (s) => s.updatedAt,
        (s) => s.stateId,
      ).map(renderState);
    case 'quality_measurements':
      return sorted(
        online(snapshot.qualityMeasurements),
        (m) => m.updatedAt,
        (m) => m.measurementId,
      ).map(renderMeasurement);
  }
}

const ENTITY_BY_PATH = new Map(
  Object.entries(REGENSBURG_API_PATHS).map(([entity, path]) => [path, entity as MesEntity]),
);

function sendJson(
  res: ServerResponse,
  status: number,
  body: Json,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(bytes.length),
    ...headers,
  });
  res.end(bytes);
}

const sendUnauthorized = (res: ServerResponse) =>
  sendJson(
    res,
    401,
    { fehler: 'Anmeldung fehlgeschlagen' },
    { 'www-authenticate': `Basic realm="${REGENSBURG_REALM}", charset="UTF-8"` },
  );

/** Compares hashes, so neither the length nor the content leaks through timing. */
const sameSecret = (a: string, b: string): boolean => timingSafeEqual(sha256(a), sha256(b));

function authorized(header: string | undefined, credentials: RegensburgCredentials): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const userOk = sameSecret(decoded.slice(0, colon), credentials.username);
  const passwordOk = sameSecret(decoded.slice(colon + 1), credentials[PASSWORD_SECRET]);
  return userOk && passwordOk;
}

/**
 * Starts the Regensburg MES stand-in on 127.0.0.1. Each data request serves the records of `data` visible
 * at `clock.now()` whose last change lies within the retention, after applying the next injected fault.
 * Its `credentials` hold `username` and `mes-regensburg-password`.
 */
export async function startRegensburgStandIn(options: RegensburgStandInOptions): Promise<MesStandIn> {
  const credentials: RegensburgCredentials = {
    username: options.credentials?.username ?? `aurora-${randomBytes(4).toString('hex')}`,
    [PASSWORD_SECRET]: options.credentials?.[PASSWORD_SECRET] ?? randomBytes(24).toString('base64url'),
  };
  const retentionMs = (options.retentionH ?? REGENSBURG_DEFAULT_RETENTION_H) * 3_600_000;
  const faults = options.faults ?? new MesFaults();
  const data = withClockSkew(options.data, () => faults.clockSkewMs);
  const stats = { requests: 0 };

  // A wait cut short by close() never resolves: the request it holds is dropped with its connection.
  const wait = (ms: number) => new Promise<void>((resolve) => server.later(resolve, ms));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    const entity = ENTITY_BY_PATH.get(path);
    if (!entity) return sendJson(res, 404, { fehler: `Unbekannte Ressource: ${path}` });
    if (req.method !== 'GET') return sendJson(res, 405, { fehler: 'Nur GET ist erlaubt' }, { allow: 'GET' });
    stats.requests++;
    if (!authorized(req.headers.authorization, credentials)) return sendUnauthorized(res);

    const fault = faults.take(entity);
    switch (fault?.fault) {
      case 'unauthorized':
        return sendUnauthorized(res);
      case 'http_500':
        return sendJson(res, 500, { fehler: 'Interner Fehler: Datenbankverbindung verloren' });
      case 'timeout':
        return; // accepted and never answered; close() drops the connection
      case 'slow':
        await wait(fault.delayMs ?? 2_000);
        break;
      default:
    }
    if (res.destroyed) return;

    const now = options.clock.now();
    let rows = rowsOf(entity, data, now, new Date(now.getTime() - retentionMs));
    if (fault?.fault === 'new_field')
      rows = rows.map((r) => ({ ...r, [REGENSBURG_FAULT_FIELD]: 'KST-4711' }));
    // Without pages, a "repeated page" is the same record listed twice.
    if (fault?.fault === 'repeat_page' && rows.length > 0) rows = [...rows, rows[0]!];
    const json = JSON.stringify(rows);
    const text = fault?.fault === 'malformed' ? `${json.slice(0, -1)},{"fehler":` : json;
    const bytes = Buffer.from(text, 'utf8');
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(bytes.length),
    });
    if (fault?.fault === 'truncated') {
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
      return;
    }
    res.end(bytes);
  }

  const server = await serveOnLoopback((req, res) => {
    handle(req, res).catch(() => {
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { fehler: 'Interner Fehler' });
    });
  }, options.port);

  return {
    vendor: 'regensburg-mes',
    facilityId: REGENSBURG_FACILITY_ID,
    url: server.url,
    credentials: { ...credentials },
    faults,
    stats,
    close: () => server.close(),
  };
}
