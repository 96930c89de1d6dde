import { SourceDataError, SourceUnavailableError } from '@aurora/core';
import type {
  MesConnector,
  MesConnectorDeps,
  MesEntity,
  MesPage,
  MesRecord,
  MesWindow,
} from '../connector.js';
import {
  HYDRA_BODY_DETAIL_LIMIT,
  type HydraBodyContext,
  type HydraListElements,
  readHydraMipError,
  readHydraMipPage,
} from './mip-xml.js';

export { HYDRA_MAX_TAGS } from './mip-xml.js';

/**
 * The connector for MPDV HYDRA via the MIP at Ingolstadt (protocol: docs/mes/hydra.md). It pages one service
 * with an opaque cursor, filtered by modification time, and lands every XML element of a record as a text
 * field.
 */

export interface HydraConnectorOptions extends MesConnectorDeps {
  /** The 8-digit client application id registered in the MIP, sent as `X-Access-Id` (not secret). */
  accessId: string;
}

/** The Key Vault secret holding the MIP API key. */
export const HYDRA_CONNECTOR_API_KEY_SECRET = 'mes-hydra-api-key';

/**
 * Lists inside records that land as a JSON array whatever their length: an order's quantity postings
 * (`<Postings><Posting>..</Posting></Postings>` -> `[{"PostedAt":..,"QtyGood":..,"QtyScrap":..}]`, `[]` for none).
 */
export const HYDRA_LIST_ELEMENTS: HydraListElements = { Postings: 'Posting' };

const SERVICES: Record<MesEntity, string> = {
  production_orders: 'BOOrder',
  machine_states: 'BOMachineState',
  quality_measurements: 'BOQualityResult',
};

/** The vendor's identity of a record: order and operation for orders, the record id otherwise. */
const KEY_OF: Record<MesEntity, (fields: Record<string, string>) => string | undefined> = {
  production_orders: (f) =>
    f['OrderNo'] && f['OperationNo'] ? `${f['OrderNo']}/${f['OperationNo']}` : undefined,
  machine_states: (f) => f['StateId'] || undefined,
  quality_measurements: (f) => f['ResultId'] || undefined,
};

const KEY_FIELDS: Record<MesEntity, string> = {
  production_orders: 'OrderNo and OperationNo',
  machine_states: 'StateId',
  quality_measurements: 'ResultId',
};

/** The same cursor may be served this often (a repeated page is legal); once more is a loop. */
const MAX_SAME_CURSOR = 3;

const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/**
 * An ISO 8601 time that states its offset (`2026-10-25T02:30:00+01:00`, or Z) as a UTC Date; undefined for
 * anything else, including times without offset (the plant's local time would be a guess across DST).
 */
export function parseHydraTime(value: string): Date | undefined {
  const m = ISO_WITH_OFFSET.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const offsetMinutes = m[8] ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  if (Math.abs(offsetMinutes) > 14 * 60 || Number(m[11]) > 59) return undefined;
  const ms = Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000);
}

/**
 * A HYDRA MIP connector. The API key is read from secret `mes-hydra-api-key` for every request, so a rotated
 * key is used at once; it never appears in URLs, errors or logs.
 */
export function createHydraConnector(deps: HydraConnectorOptions): MesConnector {
  const timeoutMs = deps.timeoutMs ?? 30_000;
  const pageSize = deps.pageSize ?? 500;
  const base = deps.baseUrl.endsWith('/') ? deps.baseUrl : `${deps.baseUrl}/`;
  // After a 401 the key may have been rotated: the next request reads it past any cache.
  let keyRejected = false;

  async function get(
    url: URL,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; body: string; request: string }> {
    const request = `GET ${url.href}`;
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const apiKey = await deps.secrets.get(HYDRA_CONNECTOR_API_KEY_SECRET, {
      signal: combined,
      refresh: keyRejected,
    });
    const redact = (text: string) => (apiKey ? text.replaceAll(apiKey, '***') : text);
    const failed = (error: unknown, what: string): never => {
      if (signal?.aborted) throw signal.reason;
      const reason = timeout.aborted
        ? `did not answer within ${timeoutMs} ms`
        : `${what}: ${redact(error instanceof Error ? (messageOf(error) ?? error.name) : String(error))}`;
      throw new SourceUnavailableError(
        `HYDRA MIP ${reason}; check that the MIP at ${deps.baseUrl} is reachable`,
        {
          cause: error,
          details: { status: null, request },
        },
      );
    };

    let response: Response;
    try {
      response = await fetch(url, {
        headers: { 'X-API-Key': apiKey, 'X-Access-Id': deps.accessId, Accept: 'application/xml' },
        signal: combined,
      });
    } catch (error) {
      return failed(error, 'request failed');
    }
    keyRejected = response.status === 401;
    const chunks: Uint8Array[] = [];
    let cut: unknown;
    try {
      for await (const chunk of response.body ?? []) chunks.push(chunk);
    } catch (error) {
      if (signal?.aborted || timeout.aborted) failed(error, 'response failed');
      cut = error;
    }
    let body: string;
    try {
      body = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
    } catch {
      body = Buffer.concat(chunks).toString('latin1');
      cut ??= new Error('body is not valid UTF-8');
    }
    body = redact(body);
    const status = response.status;
    if (cut !== undefined && status < 400) {
      throw new SourceDataError(
        `HYDRA MIP response body is incomplete or unreadable (${messageOf(cut) ?? 'connection closed'})`,
        { cause: cut, details: { status, request, body: body.slice(0, HYDRA_BODY_DETAIL_LIMIT) } },
      );
    }
    if (status >= 400) throw statusError(status, body, request, deps);
    const contentType = response.headers.get('content-type') ?? '';
    if (!/\bxml\b/i.test(contentType)) {
      throw new SourceDataError(
        `HYDRA MIP answered with content type "${contentType}", expected application/xml`,
        {
          details: { status, request, body: body.slice(0, HYDRA_BODY_DETAIL_LIMIT) },
        },
      );
    }
    return { status, body, request };
  }

  return {
    vendor: 'hydra',
    facilityId: 'ingolstadt',
    async *fetch(entity: MesEntity, window: MesWindow, options: { signal?: AbortSignal } = {}) {
      const service = SERVICES[entity];
      const served = new Map<string, number>();
      let cursor: string | undefined;
      let lastRequest = '';
      for (;;) {
        const times = (served.get(cursor ?? '') ?? 0) + 1;
        if (times > MAX_SAME_CURSOR) {
          throw new SourceDataError(
            `HYDRA MIP ${service} paging loops: cursor ${cursor ?? '(first page)'} was served ${MAX_SAME_CURSOR} times`,
            { details: { status: 200, request: lastRequest, body: '', cursor: cursor ?? null } },
          );
        }
        served.set(cursor ?? '', times);
        const url = new URL(`mip/api/v1/services/${service}`, base);
        url.searchParams.set('modifiedFrom', window.from.toISOString());
        url.searchParams.set('modifiedTo', window.to.toISOString());
        url.searchParams.set('limit', String(pageSize));
        if (cursor !== undefined) url.searchParams.set('cursor', cursor);
        const { status, body, request } = await get(url, options.signal);
        lastRequest = request;
        const context: HydraBodyContext = { status, request };
        const page = readHydraMipPage(body, service, context, HYDRA_LIST_ELEMENTS);
        const mesPage: MesPage = {
          records: page.records.map((fields) => toRecord(entity, fields, body, context)),
          request,
        };
        yield mesPage;
        if (page.nextCursor === undefined) return;
        cursor = page.nextCursor;
      }
    },
  };
}

function toRecord(
  entity: MesEntity,
  fields: Record<string, string>,
  body: string,
  context: HydraBodyContext,
): MesRecord {
  const details = { ...context, body: body.slice(0, HYDRA_BODY_DETAIL_LIMIT) };
  const key = KEY_OF[entity](fields);
  if (key === undefined) {
    throw new SourceDataError(`HYDRA MIP ${SERVICES[entity]} record without ${KEY_FIELDS[entity]}`, {
      details,
    });
  }
  const modifiedAt = parseHydraTime(fields['ModifiedAt'] ?? '');
  if (!modifiedAt) {
    throw new SourceDataError(
      `HYDRA MIP ${SERVICES[entity]} record ${key} has ModifiedAt "${fields['ModifiedAt'] ?? ''}", expected ISO 8601 with offset`,
      { details },
    );
  }
  return { fields, key, modifiedAt };
}

function statusError(status: number, body: string, request: string, deps: HydraConnectorOptions): Error {
  const mip = readHydraMipError(body);
  const said = mip ? ` ${mip.code}: ${mip.message}` : '';
  const details = { status, request, ...(mip ? { code: mip.code } : {}) };
  if (status === 401) {
    return new SourceUnavailableError(
      `HYDRA MIP rejected the API key (401${said}); check secret ${HYDRA_CONNECTOR_API_KEY_SECRET}`,
      { details },
    );
  }
  if (status === 403) {
    return new SourceUnavailableError(
      `HYDRA MIP refused access id ${deps.accessId} (403${said}); check the configured access id and its rights in the MIP`,
      { details },
    );
  }
  if (status === 404) {
    return new SourceUnavailableError(
      `HYDRA MIP has no such service (404${said}); check the base URL ${deps.baseUrl}`,
      { details },
    );
  }
  if (status === 429 || status >= 500) {
    return new SourceUnavailableError(`HYDRA MIP is unavailable (${status}${said}); retry later`, {
      details,
    });
  }
  return new SourceDataError(`HYDRA MIP refused the request (${status}${said})`, {
    details: { ...details, body: body.slice(0, HYDRA_BODY_DETAIL_LIMIT) },
  });
}

/** An error's message with its cause's (undici reports "fetch failed" and hides the reason in `cause`). */
function messageOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
