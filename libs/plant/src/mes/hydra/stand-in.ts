import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '@aurora/core';
import { XMLBuilder } from 'fast-xml-parser';
import { DateTime } from 'luxon';
import { withClockSkew } from '../clock-skew.js';
import { type FaultRule, type MesEntity, MesFaults, type MesStandIn } from '../faults.js';
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
 * A stand-in for MPDV HYDRA behind the MIP (Manufacturing Integration Platform) at Ingolstadt. No public wire
 * specification exists, so this is Aurora's proposed shape (docs/mes/hydra.md): API key and 8-digit access id in
 * headers, XML bodies with MPDV-style element names, plant-local times with offset, lengths in micrometres, and
 * an opaque cursor over records ordered by (ModifiedAt, key).
 */

export const HYDRA_FACILITY_ID = 'ingolstadt';
export const HYDRA_TIME_ZONE = 'Europe/Berlin';
/** The secret holding the MIP API key, and the name the stand-in's credentials are exposed under. */
export const HYDRA_API_KEY_SECRET = 'mes-hydra-api-key';
export const HYDRA_SERVICE_PATH = '/mip/api/v1/services/';
export const HYDRA_DEFAULT_LIMIT = 500;
export const HYDRA_MAX_LIMIT = 1000;
/** How far back a query without `modifiedFrom` reaches. */
export const HYDRA_RETENTION_DAYS = 90;

/** The MIP service ("business object") serving each bronze entity. */
export const HYDRA_SERVICES = {
  production_orders: 'BOOrder',
  machine_states: 'BOMachineState',
  quality_measurements: 'BOQualityResult',
} as const satisfies Record<MesEntity, string>;
export type HydraService = (typeof HYDRA_SERVICES)[MesEntity];

/** Order status codes (`Status`): RL freigegeben, AK aktiv, AB abgeschlossen. */
export const HYDRA_ORDER_STATUS = {
  released: 'RL',
  in_progress: 'AK',
  completed: 'AB',
} as const satisfies Record<OrderStatus, string>;

/** Machine status codes (`StatusCode`), MPDV-like numbers grouped by hundreds. */
export const HYDRA_STATUS_CODES = {
  running: 100,
  reduced_speed: 110,
  micro_stop: 120,
  failure: 200,
  setup: 300,
  maintenance: 400,
  break: 500,
  no_shift: 600,
  no_order: 700,
} as const satisfies Record<MachineState, number>;

/** German status texts (`StatusText`) as the HYDRA terminal shows them. */
export const HYDRA_STATUS_TEXTS: Record<MachineState, string> = {
  running: 'Produktion',
  reduced_speed: 'Reduzierte Geschwindigkeit',
  micro_stop: 'Kurzstillstand',
  failure: 'Störung',
  setup: 'Rüsten',
  maintenance: 'Wartung',
  break: 'Pause',
  no_shift: 'Keine Schicht',
  no_order: 'Kein Auftrag',
};

/** Quality assessment (`Assessment`): in Ordnung / nicht in Ordnung. */
export const HYDRA_ASSESSMENT = { ok: 'i.O.', notOk: 'n.i.O.' } as const;

/** Every order is one operation in the model; HYDRA numbers operations in steps of ten. */
export const HYDRA_OPERATION_NO = '0010';

/** The element the `new_field` fault adds to every record (with attribute `type="KST"`). */
export const HYDRA_FAULT_FIELD = 'CostCenter';

export interface HydraCredentials {
  /** The API key sent as `X-API-Key` (secret `mes-hydra-api-key`). */
  [HYDRA_API_KEY_SECRET]: string;
  /** The 8-digit client application id sent as `X-Access-Id` (not secret). */
  accessId: string;
}

export interface HydraStandInOptions {
  data: MesDataSource;
  clock: Clock;
  /** Default 0: any free port. */
  port?: number;
  /** Default generated randomly. */
  credentials?: Partial<HydraCredentials>;
  faults?: MesFaults;
}

const SHIFT_SLOT: Record<string, number> = { e: 1, l: 2, n: 3 };
const DAY_ZERO_MS = Date.UTC(2020, 0, 1);
const DAY_MS = 86_400_000;

/**
 * The 8-digit HYDRA order number of a canonical order id. Ids of the plant model's shape
 * (`ing-m07-20261123-e02`) map one-to-one to `DDDD MM SN`: days since 2020-01-01, machine number, shift
 * (1 early, 2 late, 3 night) and the order's number in the shift, so `ing-m07-20261123-e02` -> `25180712`.
 * Any other id maps to `9` and seven digits of its SHA-256 (not guaranteed unique).
 */
export function hydraOrderNo(orderId: string): string {
  const m = /^[a-z]+-m(\d{2})-(\d{4})(\d{2})(\d{2})-([eln])(\d{2})$/.exec(orderId);
  if (m) {
    const day = (Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4])) - DAY_ZERO_MS) / DAY_MS;
    const seq = Number(m[6]);
    if (day >= 0 && day < 9000 && seq >= 1 && seq <= 9) {
      return `${String(day).padStart(4, '0')}${m[1]}${SHIFT_SLOT[m[5]!]}${seq}`;
    }
  }
  return `9${String(hashNumber(`order:${orderId}`) % 10_000_000n).padStart(7, '0')}`;
}

/** A 16-digit numeric HYDRA id (`StateId`, `ResultId`) derived from a canonical id. */
export function hydraNumericId(kind: 'state' | 'result', canonicalId: string): string {
  return String(hashNumber(`${kind}:${canonicalId}`) % 10n ** 16n).padStart(16, '0');
}

function hashNumber(text: string): bigint {
  return createHash('sha256').update(text).digest().readBigUInt64BE(0);
}

/** Plant-local time with offset, milliseconds only when present: `2026-11-23T09:15:00+01:00`. */
export function hydraTime(at: Date): string {
  return DateTime.fromMillis(at.getTime(), { zone: HYDRA_TIME_ZONE }).toISO({ suppressMilliseconds: true })!;
}

/** Millimetres to micrometres as plain decimal text, without binary floating-point noise. */
export function hydraMicrometres(mm: number): string {
  return decimal(mm * 1000, 4);
}

function decimal(value: number, maxDecimals: number): string {
  return String(Number(value.toFixed(maxDecimals)));
}

const time = (at: Date | undefined): string => (at ? hydraTime(at) : '');

type XmlPosting = { PostedAt: string; QtyGood: string; QtyScrap: string };
type XmlRecord = Record<
  string,
  string | { '@unit'?: string; '@type'?: string; '#text': string } | { Posting: XmlPosting[] }
>;

function orderXml(o: OrderRecord): XmlRecord {
  return {
    OrderNo: hydraOrderNo(o.orderId),
    OperationNo: HYDRA_OPERATION_NO,
    Workplace: o.machineId.toUpperCase(),
    ArticleNo: o.materialId,
    QtyPlanned: String(o.plannedQty),
    QtyGood: String(o.goodCount),
    QtyScrap: String(o.scrapCount),
    Status: HYDRA_ORDER_STATUS[o.status],
    TargetCycleTime: { '@unit': 's', '#text': decimal(o.idealCycleTimeS, 6) },
    PlannedStart: time(o.plannedStartAt),
    PlannedEnd: time(o.plannedEndAt),
    ActualStart: time(o.actualStartAt),
    ActualEnd: time(o.actualEndAt),
    // The quantity postings (Mengenbuchungen) so far; HYDRA books good and scrap, no total. None: <Postings/>.
    Postings:
      o.postings.length === 0
        ? ''
        : {
            Posting: o.postings.map((p) => ({
              PostedAt: hydraTime(p.postedAt),
              QtyGood: String(p.goodCount),
              QtyScrap: String(p.scrapCount),
            })),
          },
    ModifiedAt: time(o.updatedAt),
  };
}

function stateXml(s: StateRecord): XmlRecord {
  return {
    StateId: hydraNumericId('state', s.stateId),
    Workplace: s.machineId.toUpperCase(),
    StatusCode: String(HYDRA_STATUS_CODES[s.state]),
    StatusText: HYDRA_STATUS_TEXTS[s.state],
    ReasonCode: s.reasonCode ?? '',
    SpeedPct: s.speedFactor === undefined ? '' : decimal(s.speedFactor * 100, 4),
    OrderNo: s.orderId ? hydraOrderNo(s.orderId) : '',
    OperationNo: s.orderId ? HYDRA_OPERATION_NO : '',
    Start: time(s.startAt),
    End: time(s.endAt),
    ModifiedAt: time(s.updatedAt),
  };
}

function resultXml(m: MeasurementRecord): XmlRecord {
  return {
    ResultId: hydraNumericId('result', m.measurementId),
    OrderNo: hydraOrderNo(m.orderId),
    OperationNo: HYDRA_OPERATION_NO,
    Workplace: m.machineId.toUpperCase(),
    ArticleNo: m.materialId,
    Characteristic: m.characteristic,
    NominalValue: hydraMicrometres(m.nominal),
    LowerTolerance: hydraMicrometres(m.lsl - m.nominal),
    UpperTolerance: hydraMicrometres(m.usl - m.nominal),
    MeasuredValue: hydraMicrometres(m.value),
    Unit: 'µm',
    Assessment: m.ok ? HYDRA_ASSESSMENT.ok : HYDRA_ASSESSMENT.notOk,
    DefectCode: m.defectCode ?? '',
    MeasuredAt: time(m.measuredAt),
    ModifiedAt: time(m.updatedAt),
  };
}

/** A record ready to page: its sort key and its XML element content. */
interface Row {
  modifiedMs: number;
  key: string;
  xml: XmlRecord;
}

/** The entity's records modified in [fromMs, toMs), rendered; only those are rendered, for speed. */
function rowsOf(entity: MesEntity, data: MesDataSource, asOf: Date, fromMs: number, toMs: number): Row[] {
  const snapshot = data.snapshot(HYDRA_FACILITY_ID, asOf, new Date(fromMs));
  const inWindow = (r: { updatedAt: Date }) =>
    r.updatedAt.getTime() >= fromMs && r.updatedAt.getTime() < toMs;
  const row = (updatedAt: Date, key: (xml: XmlRecord) => string, xml: XmlRecord): Row => ({
    modifiedMs: updatedAt.getTime(),
    key: key(xml),
    xml,
  });
  if (entity === 'production_orders') {
    return snapshot.orders
      .filter(inWindow)
      .map((o) => row(o.updatedAt, (x) => `${x['OrderNo']}/${HYDRA_OPERATION_NO}`, orderXml(o)));
  }
  if (entity === 'machine_states') {
    return snapshot.machineStates
      .filter(inWindow)
      .map((s) => row(s.updatedAt, (x) => String(x['StateId']), stateXml(s)));
  }
  return snapshot.qualityMeasurements
    .filter(inWindow)
    .map((m) => row(m.updatedAt, (x) => String(x['ResultId']), resultXml(m)));
}

const compareSortKey = (a: { modifiedMs: number; key: string }, b: { modifiedMs: number; key: string }) =>
  a.modifiedMs - b.modifiedMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The cursor before the first record (what `repeat_page` points back to on a first page). */
const START_CURSOR = Buffer.from('[]').toString('base64url');

const encodeCursor = (row: { modifiedMs: number; key: string }): string =>
  Buffer.from(JSON.stringify([row.modifiedMs, row.key])).toString('base64url');

function decodeCursor(cursor: string): { modifiedMs: number; key: string } | null | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 0) return null;
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === 'string'
    ) {
      return { modifiedMs: value[0] as number, key: value[1] };
    }
  } catch {
    // falls through to "invalid"
  }
  return undefined;
}

const OFFSET_SUFFIX = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

/** ISO 8601 with an offset or Z; anything else (no offset, not a date) is undefined. */
function parseQueryTime(value: string): Date | undefined {
  if (!OFFSET_SUFFIX.test(value)) return undefined;
  const parsed = DateTime.fromISO(value, { setZone: true });
  return parsed.isValid ? parsed.toJSDate() : undefined;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  suppressEmptyNode: true,
});
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

function errorBody(code: string, message: string): string {
  return XML_DECLARATION + builder.build({ Error: { '@code': code, '@message': message } });
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Query {
  from: Date | undefined;
  to: Date | undefined;
  limit: number;
  after: { modifiedMs: number; key: string } | null;
}

function parseQuery(params: URLSearchParams): Query {
  const timeParam = (name: string): Date | undefined => {
    const raw = params.get(name);
    if (raw === null || raw === '') return undefined;
    const at = parseQueryTime(raw);
    if (!at) {
      throw new HttpProblem(400, 'INVALID_PARAMETER', `${name} must be ISO 8601 with an offset or Z`);
    }
    return at;
  };
  const from = timeParam('modifiedFrom');
  const to = timeParam('modifiedTo');
  if (from && to && from.getTime() > to.getTime()) {
    throw new HttpProblem(400, 'INVALID_PARAMETER', 'modifiedFrom must not be after modifiedTo');
  }
  const rawLimit = params.get('limit');
  let limit = HYDRA_DEFAULT_LIMIT;
  if (rawLimit !== null) {
    if (!/^\d+$/.test(rawLimit) || Number(rawLimit) < 1) {
      throw new HttpProblem(400, 'INVALID_PARAMETER', 'limit must be a positive integer');
    }
    limit = Math.min(Number(rawLimit), HYDRA_MAX_LIMIT);
  }
  const rawCursor = params.get('cursor');
  let after: Query['after'] = null;
  if (rawCursor !== null && rawCursor !== '') {
    const decoded = decodeCursor(rawCursor);
    if (decoded === undefined) throw new HttpProblem(400, 'INVALID_CURSOR', 'cursor is not valid');
    after = decoded;
  }
  return { from, to, limit, after };
}

/** Compares digests in constant time, so the answer's timing tells nothing about the key. */
function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const SERVICE_ENTITY = new Map<string, MesEntity>(
  Object.entries(HYDRA_SERVICES).map(([entity, service]) => [service, entity as MesEntity]),
);

/**
 * Starts the HYDRA MIP stand-in on 127.0.0.1, serving facility `ingolstadt` from `data` as of `clock.now()`.
 * Its `credentials` hold `mes-hydra-api-key` and `accessId`.
 */
export async function startHydraStandIn(options: HydraStandInOptions): Promise<MesStandIn> {
  const { clock } = options;
  const credentials: HydraCredentials = {
    [HYDRA_API_KEY_SECRET]:
      options.credentials?.[HYDRA_API_KEY_SECRET] ?? randomBytes(24).toString('base64url'),
    accessId: options.credentials?.accessId ?? String(randomInt(0, 100_000_000)).padStart(8, '0'),
  };
  const faults = options.faults ?? new MesFaults();
  const data = withClockSkew(options.data, () => faults.clockSkewMs);
  const stats = { requests: 0 };

  const send = (res: ServerResponse, status: number, body: string, fault?: FaultRule) => {
    const bytes = Buffer.from(body, 'utf8');
    res.writeHead(status, {
      'Content-Type': 'application/xml; charset=utf-8',
      'Content-Length': bytes.length,
    });
    if (fault?.fault === 'truncated') {
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
      return;
    }
    res.end(bytes);
  };

  const page = (entity: MesEntity, query: Query, fault: FaultRule | undefined): string => {
    const now = clock.now();
    const horizon = new Date(now.getTime() - HYDRA_RETENTION_DAYS * DAY_MS);
    const fromMs = (query.from ?? horizon).getTime();
    // The snapshot only needs what can still be served: from the window's start or the cursor, whichever is later.
    const sinceMs = Math.max(fromMs, query.after?.modifiedMs ?? fromMs);
    const toMs = query.to?.getTime() ?? Number.POSITIVE_INFINITY;
    const rows = rowsOf(entity, data, now, sinceMs, toMs)
      .filter((r) => query.after === null || compareSortKey(r, query.after) > 0)
      .sort(compareSortKey);
    const served = rows.slice(0, query.limit);
    const last = served.at(-1);
    let next = last && rows.length > served.length ? encodeCursor(last) : '';
    if (fault?.fault === 'repeat_page') next = query.after ? encodeCursor(query.after) : START_CURSOR;
    const records = served.map((r) =>
      fault?.fault === 'new_field'
        ? { ...r.xml, [HYDRA_FAULT_FIELD]: { '@type': 'KST', '#text': '4711' } }
        : r.xml,
    );
    const response: Record<string, unknown> = {
      '@service': HYDRA_SERVICES[entity],
      Records: records.length > 0 ? { Record: records } : '',
    };
    // An empty NextCursor ends a listing; a response without records leaves the element out altogether.
    if (records.length > 0 || next !== '') response['NextCursor'] = next;
    const body = XML_DECLARATION + builder.build({ MipResponse: response });
    return fault?.fault === 'malformed'
      ? body.replace(/<\/MipResponse>$/, '<Records><Record><OrderNo>')
      : body;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (!url.pathname.startsWith(HYDRA_SERVICE_PATH)) {
      send(res, 404, errorBody('NOT_FOUND', `no resource at ${url.pathname}`));
      return;
    }
    const service = url.pathname.slice(HYDRA_SERVICE_PATH.length);
    const entity = SERVICE_ENTITY.get(service);
    if (!entity) {
      send(res, 404, errorBody('SERVICE_UNKNOWN', `service ${service} is not available`));
      return;
    }
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      send(res, 405, errorBody('METHOD_NOT_ALLOWED', 'only GET is supported'));
      return;
    }
    stats.requests++;
    const fault = faults.take(entity);
    if (
      fault?.fault === 'unauthorized' ||
      !sameSecret(req.headers['x-api-key'], credentials[HYDRA_API_KEY_SECRET])
    ) {
      send(res, 401, errorBody('UNAUTHORIZED', 'API key missing or not valid'));
      return;
    }
    if (req.headers['x-access-id'] !== credentials.accessId) {
      send(res, 403, errorBody('ACCESS_DENIED', 'access id is not registered for this service'));
      return;
    }
    let query: Query;
    try {
      query = parseQuery(url.searchParams);
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      send(res, error.status, errorBody(error.code, error.message));
      return;
    }
    if (fault?.fault === 'timeout') return;
    if (fault?.fault === 'http_500') {
      send(res, 500, errorBody('INTERNAL_ERROR', 'MIP service call failed'));
      return;
    }
    const answer = () => send(res, 200, page(entity, query, fault), fault);
    if (fault?.fault === 'slow') {
      server.later(() => {
        if (!res.destroyed) answer();
      }, fault.delayMs ?? 2_000);
      return;
    }
    answer();
  };

  const server = await serveOnLoopback((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      send(res, 500, errorBody('INTERNAL_ERROR', error instanceof Error ? error.message : 'internal error'));
    }
  }, options.port);

  return {
    vendor: 'hydra',
    facilityId: HYDRA_FACILITY_ID,
    url: server.url,
    credentials: { ...credentials },
    faults,
    stats,
    close: () => server.close(),
  };
}
