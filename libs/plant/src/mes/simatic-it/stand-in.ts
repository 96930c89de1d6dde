import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '@aurora/core';
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
 * A stand-in for Augsburg's Siemens SIMATIC IT Unified Architecture / Opcenter Execution Discrete: an
 * OAuth token endpoint (`/sit-auth/OAuth/Token`) and OData v4 reads of the AppU4DM application
 * (`/sit-svc/Application/AppU4DM/odata/{EntitySet}`), rendering the plant model's records in the
 * product's PascalCase fields, GUID ids, NId human ids and code lists. The wire format is documented in
 * docs/mes/simatic-it.md.
 */

export const SIMATIC_VENDOR = 'simatic-it';
export const SIMATIC_FACILITY = 'augsburg';
export const SIMATIC_APP = 'AppU4DM';

/** The OData entity sets the stand-in serves, by bronze entity. */
export const SIMATIC_ENTITY_SETS: Readonly<Record<MesEntity, string>> = {
  production_orders: 'WorkOrder',
  machine_states: 'EquipmentState',
  quality_measurements: 'QualityMeasurement',
};

/** `WorkOrder.Status.StatusNId` by canonical order status. */
export const SIMATIC_ORDER_STATUS: Readonly<Record<OrderStatus, string>> = {
  released: 'Released',
  in_progress: 'Active',
  completed: 'Complete',
};

export type SimaticState = 'RUNNING' | 'IDLE' | 'DOWN' | 'SETUP';

/**
 * `EquipmentState.State` and the base of `ReasonCode` by canonical machine state. The `ReasonCode` is
 * the base code, the model's own reason code, or `<base>/<model reason>` when both exist; the pair
 * (State, ReasonCode) gives back the canonical state and reason exactly (see `simaticCanonicalState`).
 */
export const SIMATIC_STATE_CODES: Readonly<
  Record<MachineState, { state: SimaticState; reasonBase?: string }>
> = {
  running: { state: 'RUNNING' },
  reduced_speed: { state: 'RUNNING', reasonBase: 'SPEED_LOSS' },
  micro_stop: { state: 'IDLE', reasonBase: 'MICRO_STOP' },
  break: { state: 'IDLE', reasonBase: 'BREAK' },
  no_shift: { state: 'IDLE', reasonBase: 'NO_SHIFT' },
  no_order: { state: 'IDLE', reasonBase: 'NO_ORDER' },
  setup: { state: 'SETUP' },
  failure: { state: 'DOWN' },
  maintenance: { state: 'DOWN', reasonBase: 'MAINTENANCE' },
};

/** A canonical state and reason as Opcenter's (State, ReasonCode). */
export function simaticEquipmentState(
  state: MachineState,
  reasonCode?: string,
): { State: SimaticState; ReasonCode: string | null } {
  const { state: State, reasonBase } = SIMATIC_STATE_CODES[state];
  const parts = [reasonBase, reasonCode].filter((p): p is string => p !== undefined && p !== '');
  return { State, ReasonCode: parts.length > 0 ? parts.join('/') : null };
}

/** The inverse of `simaticEquipmentState`: what silver does to map Opcenter states back. */
export function simaticCanonicalState(
  State: string,
  ReasonCode: string | null,
): { state: MachineState; reasonCode?: string } | undefined {
  const candidates = (Object.keys(SIMATIC_STATE_CODES) as MachineState[]).filter(
    (s) => SIMATIC_STATE_CODES[s].state === State,
  );
  for (const state of candidates) {
    const base = SIMATIC_STATE_CODES[state].reasonBase;
    if (base === undefined || ReasonCode === null) continue;
    if (ReasonCode === base) return { state };
    if (ReasonCode.startsWith(`${base}/`)) return { state, reasonCode: ReasonCode.slice(base.length + 1) };
  }
  const plain = candidates.find((s) => SIMATIC_STATE_CODES[s].reasonBase === undefined);
  if (plain === undefined) return undefined;
  return ReasonCode === null ? { state: plain } : { state: plain, reasonCode: ReasonCode };
}

export interface SimaticCredentials {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}

export interface SimaticStandInOptions {
  data: MesDataSource;
  clock: Clock;
  /** Default 0: any free port. */
  port?: number;
  credentials?: Partial<SimaticCredentials>;
  /** Token lifetime on `clock`; default 3,600 s. */
  tokenTtlS?: number;
  /** Server-driven paging: records per page at most, whatever `$top` asks; default 500. */
  maxPageSize?: number;
  /** How far back a query without a lower bound on LastUpdatedOn reaches; default 7 days. */
  retentionDays?: number;
  faults?: MesFaults;
}

type ODataRecord = Record<string, unknown>;

const ODATA_PREFIX = `/sit-svc/Application/${SIMATIC_APP}/odata/`;
const TOKEN_PATH = '/sit-auth/OAuth/Token';
const NEW_FIELD = { name: 'CustomAttribute1', value: 'AUG-EXT-01' };
const DAY_MS = 86_400_000;

/**
 * Starts the stand-in on 127.0.0.1. Every data request reads `data.snapshot('augsburg', clock.now(),
 * since)` with `since` the query's lower bound on LastUpdatedOn (or the retention horizon), so the
 * answer is what the MES shows at that moment.
 */
export async function startSimaticStandIn(options: SimaticStandInOptions): Promise<MesStandIn> {
  const { clock } = options;
  const creds: SimaticCredentials = {
    clientId: options.credentials?.clientId ?? `aurora-${randomBytes(4).toString('hex')}`,
    clientSecret: options.credentials?.clientSecret ?? randomBytes(24).toString('base64url'),
    username: options.credentials?.username ?? 'AUG\\svc-aurora',
    password: options.credentials?.password ?? randomBytes(18).toString('base64url'),
  };
  const tokenTtlS = options.tokenTtlS ?? 3600;
  const maxPageSize = options.maxPageSize ?? 500;
  const retentionMs = (options.retentionDays ?? 7) * DAY_MS;
  const faults = options.faults ?? new MesFaults();
  const data = withClockSkew(options.data, () => faults.clockSkewMs);
  const stats = { requests: 0 };
  const tokens = new Map<string, number>();

  const issueToken = (res: ServerResponse, body: URLSearchParams, authorization: string | undefined) => {
    const client = clientOf(body, authorization);
    if (!client || client.id !== creds.clientId || client.secret !== creds.clientSecret) {
      oauthError(res, 401, 'invalid_client', 'Client authentication failed.', {
        'WWW-Authenticate': 'Basic realm="sit-auth"',
      });
      return;
    }
    const grant = body.get('grant_type');
    if (!grant) return oauthError(res, 400, 'invalid_request', 'grant_type is required.');
    const scope = body.get('scope') ?? 'global';
    if (scope !== 'global') return oauthError(res, 400, 'invalid_scope', `Unknown scope '${scope}'.`);
    if (grant === 'password') {
      const username = body.get('username');
      const password = body.get('password');
      if (!username || password === null) {
        return oauthError(res, 400, 'invalid_request', 'username and password are required.');
      }
      if (username !== creds.username || password !== creds.password) {
        return oauthError(res, 400, 'invalid_grant', 'The user name or password is incorrect.');
      }
    } else if (grant !== 'client_credentials') {
      return oauthError(res, 400, 'unsupported_grant_type', `grant_type '${grant}' is not supported.`);
    }
    const token = randomBytes(32).toString('base64url');
    tokens.set(token, clock.now().getTime() + tokenTtlS * 1000);
    sendJson(
      res,
      200,
      { access_token: token, token_type: 'bearer', expires_in: tokenTtlS, scope },
      {
        'Cache-Control': 'no-store',
        Pragma: 'no-cache',
      },
    );
  };

  const authorized = (req: IncomingMessage): boolean => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const expiresAt = match ? tokens.get(match[1]!) : undefined;
    return expiresAt !== undefined && clock.now().getTime() < expiresAt;
  };

  const serveData = (req: IncomingMessage, res: ServerResponse, url: URL, entitySet: string) => {
    const entity = (Object.keys(SIMATIC_ENTITY_SETS) as MesEntity[]).find(
      (e) => SIMATIC_ENTITY_SETS[e] === entitySet,
    );
    if (!entity) return odataError(res, 404, '404', `Entity set '${entitySet}' not found.`);
    if (req.method !== 'GET') return odataError(res, 405, '405', `Method ${req.method} not allowed.`);
    stats.requests++;
    if (!authorized(req)) return unauthorized(res, 'The access token is missing, invalid or expired.');
    let query: DataQuery;
    try {
      query = parseQuery(url, req.headers['prefer']);
    } catch (error) {
      return odataError(res, 400, '400', (error as Error).message);
    }
    const fault = faults.take(entity);
    if (fault?.fault === 'unauthorized') return unauthorized(res, 'The access token was rejected.');
    if (fault?.fault === 'http_500') {
      return odataError(res, 500, '500', 'An unexpected error occurred in the Unified Architecture service.');
    }
    if (fault?.fault === 'timeout') return;

    const now = clock.now();
    const since = new Date(query.lowerBoundMs ?? now.getTime() - retentionMs);
    const records = render(entity, data.snapshot(SIMATIC_FACILITY, now, since))
      .filter((r) => query.conditions.every((c) => c(Date.parse(r['LastUpdatedOn'] as string))))
      .sort(byLastUpdatedOnAndId);
    const wanted = query.top === undefined ? records.length - query.skip : query.top;
    const pageSize = Math.max(0, Math.min(wanted, maxPageSize, query.preferredPageSize ?? maxPageSize));
    const page = records.slice(query.skip, query.skip + pageSize);
    const served = page.length;
    const more = served < wanted && query.skip + served < records.length;
    // OData links are absolute, so they name the port the server got.
    const baseUrl = server.url;

    const body: ODataRecord = { '@odata.context': `${baseUrl}${ODATA_PREFIX}$metadata#${entitySet}` };
    if (query.count) body['@odata.count'] = records.length;
    body['value'] =
      fault?.fault === 'new_field' ? page.map((r) => ({ ...r, [NEW_FIELD.name]: NEW_FIELD.value })) : page;
    if (fault?.fault === 'repeat_page') {
      body['@odata.nextLink'] = `${baseUrl}${url.pathname}${url.search}`;
    } else if (more) {
      const next = new URL(`${baseUrl}${url.pathname}${url.search}`);
      next.searchParams.set('$skip', String(query.skip + served));
      if (query.top !== undefined) next.searchParams.set('$top', String(query.top - served));
      body['@odata.nextLink'] = next.href;
    }
    const headers: Record<string, string> =
      query.preferredPageSize === undefined
        ? {}
        : { 'Preference-Applied': `odata.maxpagesize=${query.preferredPageSize}` };
    sendData(res, JSON.stringify(body), fault, headers);
  };

  const sendData = (res: ServerResponse, text: string, fault: FaultRule | undefined, headers: object) => {
    const head = {
      'Content-Type': 'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8',
      'OData-Version': '4.0',
      ...headers,
    };
    if (fault?.fault === 'malformed') {
      const broken = text.replace('"value":[', '"value":[{,');
      res.writeHead(200, { ...head, 'Content-Length': Buffer.byteLength(broken) }).end(broken);
      return;
    }
    const bytes = Buffer.from(text);
    if (fault?.fault === 'truncated') {
      res.writeHead(200, { ...head, 'Content-Length': bytes.length });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
      return;
    }
    const answer = () => res.writeHead(200, { ...head, 'Content-Length': bytes.length }).end(bytes);
    if (fault?.fault === 'slow') {
      server.later(() => {
        if (!res.destroyed) answer();
      }, fault.delayMs ?? 2000);
      return;
    }
    answer();
  };

  const server = await serveOnLoopback((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (url.pathname === TOKEN_PATH) {
      if (req.method !== 'POST') return oauthError(res, 405, 'invalid_request', 'Use POST.');
      readBody(req).then(
        (text) => {
          if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
            return oauthError(res, 400, 'invalid_request', 'Expected application/x-www-form-urlencoded.');
          }
          issueToken(res, new URLSearchParams(text), req.headers.authorization);
        },
        () => res.destroy(),
      );
      return;
    }
    if (url.pathname.startsWith(ODATA_PREFIX)) {
      return serveData(req, res, url, decodeURIComponent(url.pathname.slice(ODATA_PREFIX.length)));
    }
    odataError(res, 404, '404', `No resource at ${url.pathname}.`);
  }, options.port);

  return {
    vendor: SIMATIC_VENDOR,
    facilityId: SIMATIC_FACILITY,
    url: server.url,
    credentials: {
      'mes-simatic-client-secret': creds.clientSecret,
      'mes-simatic-password': creds.password,
      clientId: creds.clientId,
      username: creds.username,
      grant: 'password',
      app: SIMATIC_APP,
    },
    faults,
    stats,
    close: () => server.close(),
  };
}

// ---- rendering ------------------------------------------------------------------------------------

/** A GUID derived from the entity and the canonical id: stable across versions and runs. */
export function simaticGuid(entitySet: string, canonicalId: string): string {
  const h = createHash('sha256').update(`${entitySet}:${canonicalId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Opcenter's human ids (NId) are upper case; the canonical ids are their lower-case form. */
const nid = (canonicalId: string) => canonicalId.toUpperCase();
const workOrderNId = (orderId: string) => `WO-${nid(orderId)}`;
const time = (d: Date | undefined) => (d === undefined ? null : d.toISOString());

function renderWorkOrder(o: OrderRecord): ODataRecord {
  return {
    Id: simaticGuid('WorkOrder', o.orderId),
    NId: workOrderNId(o.orderId),
    Name: `${o.materialId} on ${nid(o.machineId)}`,
    Status: { StatusNId: SIMATIC_ORDER_STATUS[o.status] },
    Quantity: o.plannedQty,
    ProducedQuantity: o.totalCount,
    GoodQuantity: o.goodCount,
    ScrapQuantity: o.scrapCount,
    QuantityPostings: o.postings.map((p) => ({
      PostedOn: p.postedAt.toISOString(),
      ProducedQuantity: p.totalCount,
      GoodQuantity: p.goodCount,
      ScrapQuantity: p.scrapCount,
    })),
    FinalMaterial: { NId: o.materialId, Revision: 'A' },
    PlannedStartTime: time(o.plannedStartAt),
    PlannedEndTime: time(o.plannedEndAt),
    ActualStartTime: time(o.actualStartAt),
    ActualEndTime: time(o.actualEndAt),
    Equipment: nid(o.machineId),
    IdealCycleTime: o.idealCycleTimeS,
    Plant: 'AUG',
    LastUpdatedOn: time(o.updatedAt),
  };
}

function renderEquipmentState(s: StateRecord): ODataRecord {
  return {
    Id: simaticGuid('EquipmentState', s.stateId),
    NId: nid(s.stateId),
    EquipmentNId: nid(s.machineId),
    ...simaticEquipmentState(s.state, s.reasonCode),
    WorkOrderNId: s.orderId === undefined ? null : workOrderNId(s.orderId),
    StartTime: time(s.startAt),
    EndTime: time(s.endAt),
    SpeedFactor: s.speedFactor ?? null,
    LastUpdatedOn: time(s.updatedAt),
  };
}

function renderQualityMeasurement(m: MeasurementRecord): ODataRecord {
  return {
    Id: simaticGuid('QualityMeasurement', m.measurementId),
    NId: nid(m.measurementId),
    WorkOrderNId: workOrderNId(m.orderId),
    EquipmentNId: nid(m.machineId),
    MaterialNId: m.materialId,
    CharacteristicNId: m.characteristic,
    Value: m.value,
    UoM: m.unit,
    NominalValue: m.nominal,
    LSL: m.lsl,
    USL: m.usl,
    Result: m.ok ? 'OK' : 'NOK',
    DefectCode: m.defectCode ?? null,
    MeasuredOn: time(m.measuredAt),
    LastUpdatedOn: time(m.updatedAt),
  };
}

function render(entity: MesEntity, snapshot: ReturnType<MesDataSource['snapshot']>): ODataRecord[] {
  const own = <T extends { facilityId: string }>(xs: T[]) =>
    xs.filter((x) => x.facilityId === SIMATIC_FACILITY);
  switch (entity) {
    case 'production_orders':
      return own(snapshot.orders).map(renderWorkOrder);
    case 'machine_states':
      return own(snapshot.machineStates).map(renderEquipmentState);
    case 'quality_measurements':
      return own(snapshot.qualityMeasurements).map(renderQualityMeasurement);
  }
}

const byLastUpdatedOnAndId = (a: ODataRecord, b: ODataRecord) => {
  const ta = a['LastUpdatedOn'] as string;
  const tb = b['LastUpdatedOn'] as string;
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ia = a['Id'] as string;
  const ib = b['Id'] as string;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
};

// ---- OData query options -------------------------------------------------------------------------

interface DataQuery {
  conditions: ((ms: number) => boolean)[];
  /** The greatest lower bound on LastUpdatedOn (ge, gt, eq), which bounds the snapshot. */
  lowerBoundMs?: number;
  top?: number;
  skip: number;
  count: boolean;
  preferredPageSize?: number;
}

const DATE_TIME_OFFSET = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)(Z|[+-]\d{2}:\d{2})$/;
const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ge: (a, b) => a >= b,
  gt: (a, b) => a > b,
  le: (a, b) => a <= b,
  lt: (a, b) => a < b,
};
const ORDER_BY = new Set([
  'LastUpdatedOn,Id',
  'LastUpdatedOn asc,Id asc',
  'LastUpdatedOn',
  'LastUpdatedOn asc',
]);
const KNOWN_OPTIONS = new Set(['$filter', '$orderby', '$top', '$skip', '$count', '$format']);

/** Parses an Edm.DateTimeOffset literal to epoch ms (sub-millisecond digits are cut, as Opcenter stores ms). */
function parseDateTimeOffset(text: string): number | undefined {
  const m = DATE_TIME_OFFSET.exec(text);
  if (!m) return undefined;
  const local = m[1]!.replace(/(\.\d{3})\d+$/, '$1');
  const ms = Date.parse(`${local}${m[2]}`);
  return Number.isNaN(ms) ? undefined : ms;
}

function parseQuery(url: URL, prefer: string | string[] | undefined): DataQuery {
  const params = url.searchParams;
  for (const name of params.keys()) {
    if (name.startsWith('$') && !KNOWN_OPTIONS.has(name))
      throw new Error(`The query option '${name}' is not supported.`);
  }
  const query: DataQuery = { conditions: [], skip: 0, count: false };
  const filter = params.get('$filter');
  if (filter !== null) {
    for (const clause of filter.trim().split(/\s+and\s+/)) {
      const m = /^LastUpdatedOn\s+(eq|ge|gt|le|lt)\s+(\S+)$/.exec(clause.trim());
      const at = m ? parseDateTimeOffset(m[2]!) : undefined;
      if (!m || at === undefined) {
        throw new Error(
          `The $filter '${filter}' is not supported: only comparisons (eq, ge, gt, le, lt) of LastUpdatedOn with an Edm.DateTimeOffset joined by 'and'.`,
        );
      }
      const compare = COMPARE[m[1]!]!;
      query.conditions.push((ms) => compare(ms, at));
      if (m[1] === 'eq' || m[1] === 'ge' || m[1] === 'gt') {
        query.lowerBoundMs = Math.max(query.lowerBoundMs ?? Number.NEGATIVE_INFINITY, at);
      }
    }
  }
  const orderBy = params.get('$orderby');
  if (orderBy !== null && !ORDER_BY.has(orderBy.replace(/\s*,\s*/g, ','))) {
    throw new Error(`The $orderby '${orderBy}' is not supported: results are ordered by LastUpdatedOn,Id.`);
  }
  const integer = (name: string) => {
    const text = params.get(name);
    if (text === null) return undefined;
    if (!/^\d+$/.test(text)) throw new Error(`The value '${text}' of ${name} is not a non-negative integer.`);
    return Number(text);
  };
  const top = integer('$top');
  if (top !== undefined) query.top = top;
  query.skip = integer('$skip') ?? 0;
  const count = params.get('$count');
  if (count !== null && count !== 'true' && count !== 'false') throw new Error(`Invalid $count '${count}'.`);
  query.count = count === 'true';
  const pageSize = /odata\.maxpagesize=(\d+)/i.exec([prefer ?? []].flat().join(','));
  if (pageSize && Number(pageSize[1]) > 0) query.preferredPageSize = Number(pageSize[1]);
  return query;
}

// ---- HTTP helpers ---------------------------------------------------------------------------------

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      ...headers,
    })
    .end(text);
}

function oauthError(
  res: ServerResponse,
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
) {
  sendJson(
    res,
    status,
    { error, error_description: description },
    { 'Cache-Control': 'no-store', ...headers },
  );
}

function odataError(res: ServerResponse, status: number, code: string, message: string, headers = {}) {
  sendJson(res, status, { error: { code, message, details: [] } }, { 'OData-Version': '4.0', ...headers });
}

function unauthorized(res: ServerResponse, message: string) {
  odataError(res, 401, '401', message, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
}

/** Client authentication per RFC 6749 §2.3.1: HTTP Basic (form-encoded id and secret) or form fields. */
function clientOf(
  body: URLSearchParams,
  authorization: string | undefined,
): { id: string; secret: string } | undefined {
  const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const formDecode = (s: string) => {
      try {
        return decodeURIComponent(s.replaceAll('+', ' '));
      } catch {
        return s;
      }
    };
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  }
  const id = body.get('client_id');
  const secret = body.get('client_secret');
  return id !== null && secret !== null ? { id, secret } : undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
