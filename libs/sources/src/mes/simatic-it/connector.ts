import { SourceDataError, SourceUnavailableError } from '@aurora/core';
import type {
  MesConnector,
  MesConnectorDeps,
  MesEntity,
  MesPage,
  MesRecord,
  MesWindow,
} from '../connector.js';
import { parseVendorJson, VendorJsonError, vendorFields } from '../vendor-json.js';

/**
 * Reads Augsburg's Siemens SIMATIC IT UA / Opcenter Execution Discrete over its OData v4 API: an OAuth
 * token from `/sit-auth/OAuth/Token`, then `GET /sit-svc/Application/{app}/odata/{EntitySet}` filtered on
 * LastUpdatedOn and ordered by LastUpdatedOn,Id, following `@odata.nextLink` to the end. See
 * docs/mes/simatic-it.md.
 */

/** Key Vault names of the secrets the connector reads on every token request. */
export const SIMATIC_SECRET_NAMES = {
  clientSecret: 'mes-simatic-client-secret',
  password: 'mes-simatic-password',
} as const;

/** Entity sets by bronze entity; only WorkOrder is a publicly verified name, hence configurable. */
export const SIMATIC_DEFAULT_ENTITY_SETS: Readonly<Record<MesEntity, string>> = {
  production_orders: 'WorkOrder',
  machine_states: 'EquipmentState',
  quality_measurements: 'QualityMeasurement',
};

export interface SimaticConnectorOptions {
  /** `password` (ROPC, what Opcenter clients use) or `client_credentials`. */
  grant: 'password' | 'client_credentials';
  clientId: string;
  /** For the password grant, e.g. `AUG\svc-aurora`. */
  username?: string;
  /** The UA application; default `AppU4DM` (Opcenter EX Discrete). */
  app?: string;
  entities?: Partial<Record<MesEntity, string>>;
  /** How the client authenticates at the token endpoint: HTTP Basic (default) or form fields. */
  clientAuth?: 'basic' | 'form';
}

const MAX_BODY_IN_ERROR = 64 * 1024;
const TOKEN_MARGIN_MS = 60_000;
/** A page URL fetched this often means the server's nextLinks go round in a circle. */
const MAX_FETCHES_PER_PAGE = 3;
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

interface CachedToken {
  value: string;
  /** On deps.clock: when the connector stops using it (60 s before the server's expiry). */
  renewAtMs: number;
}

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

/** A MesConnector for SIMATIC IT UA / Opcenter EX; `key` = `Id`, `modifiedAt` = `LastUpdatedOn`. */
export function createSimaticConnector(deps: MesConnectorDeps & SimaticConnectorOptions): MesConnector {
  const base = new URL(deps.baseUrl.endsWith('/') ? deps.baseUrl : `${deps.baseUrl}/`);
  const tokenUrl = new URL('sit-auth/OAuth/Token', base);
  const app = deps.app ?? 'AppU4DM';
  const timeoutMs = deps.timeoutMs ?? 30_000;
  const pageSize = deps.pageSize ?? 500;
  const clientAuth = deps.clientAuth ?? 'basic';
  let cached: CachedToken | undefined;
  /** The token endpoint refused the last request: the next one reads the secrets past any cache. */
  let credentialsRejected = false;
  let pending: Promise<CachedToken> | undefined;

  /** One HTTP exchange: any failure to get a complete answer becomes the platform's error classes. */
  const exchange = async (
    url: URL,
    init: RequestInit,
    request: string,
    signal?: AbortSignal,
  ): Promise<Answer> => {
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
    const combined = AbortSignal.any(signals);
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: combined, redirect: 'manual' });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new SourceUnavailableError(
        combined.aborted
          ? `SIMATIC IT did not answer within ${timeoutMs} ms: check the MES and the network to it`
          : `SIMATIC IT could not be reached: check the URL ${base.origin} and the network`,
        { cause: error, details: { status: null, request } },
      );
    }
    const chunks: Uint8Array[] = [];
    try {
      for await (const chunk of res.body ?? []) chunks.push(chunk);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const partial = Buffer.concat(chunks).toString('utf8');
      if (combined.aborted) {
        throw new SourceUnavailableError(`SIMATIC IT did not finish its answer within ${timeoutMs} ms`, {
          cause: error,
          details: { status: res.status, request },
        });
      }
      throw new SourceDataError(`SIMATIC IT broke off its answer (${partial.length} bytes read)`, {
        cause: error,
        details: { status: res.status, request, body: partial.slice(0, MAX_BODY_IN_ERROR) },
      });
    }
    const bytes = Buffer.concat(chunks);
    try {
      // Fatal: a byte that is not UTF-8 would otherwise land as U+FFFD, changed without a word.
      return {
        status: res.status,
        text: new TextDecoder('utf-8', { fatal: true }).decode(bytes),
        headers: res.headers,
      };
    } catch (error) {
      throw new SourceDataError(
        'SIMATIC IT answered with a body that is not UTF-8: it cannot be read as sent',
        {
          cause: error,
          details: {
            status: res.status,
            request,
            body: bytes.toString('latin1').slice(0, MAX_BODY_IN_ERROR),
          },
        },
      );
    }
  };

  const requestToken = async (signal?: AbortSignal): Promise<CachedToken> => {
    const request = `POST ${tokenUrl.href}`;
    // After a rejection the credentials may have been rotated: read them past any cache.
    const read = { ...(signal ? { signal } : {}), refresh: credentialsRejected };
    const clientSecret = await deps.secrets.get(SIMATIC_SECRET_NAMES.clientSecret, read);
    const form = new URLSearchParams({ grant_type: deps.grant, scope: 'global' });
    if (deps.grant === 'password') {
      if (!deps.username) {
        throw new SourceUnavailableError('the SIMATIC IT password grant needs a username: configure it', {
          details: { status: null, request },
        });
      }
      form.set('username', deps.username);
      form.set('password', await deps.secrets.get(SIMATIC_SECRET_NAMES.password, read));
    }
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    };
    if (clientAuth === 'basic') {
      const id = formEncode(deps.clientId);
      headers['Authorization'] =
        `Basic ${Buffer.from(`${id}:${formEncode(clientSecret)}`).toString('base64')}`;
    } else {
      form.set('client_id', deps.clientId);
      form.set('client_secret', clientSecret);
    }
    const startedMs = deps.clock.now().getTime();
    const answer = await exchange(
      tokenUrl,
      { method: 'POST', headers, body: form.toString() },
      request,
      signal,
    );
    credentialsRejected = answer.status !== 200;
    if (answer.status !== 200) {
      const oauthError = oauthErrorCode(answer.text);
      const what =
        answer.status === 401 || oauthError === 'invalid_client'
          ? `the client ${deps.clientId} was rejected: check the client id and the secret ${SIMATIC_SECRET_NAMES.clientSecret}`
          : oauthError === 'invalid_grant'
            ? `the user was rejected: check the username ${deps.username ?? ''} and the secret ${SIMATIC_SECRET_NAMES.password}`
            : `check the grant type ${deps.grant} and the token endpoint`;
      throw new SourceUnavailableError(
        `SIMATIC IT refused a token (${answer.status}${oauthError ? ` ${oauthError}` : ''}): ${what}`,
        { details: { status: answer.status, request, ...(oauthError ? { oauthError } : {}) } },
      );
    }
    const body = parseJson(answer.text);
    const token = isObject(body) ? body['access_token'] : undefined;
    const expiresInS = isObject(body) ? Number(body['expires_in'] ?? 3600) : Number.NaN;
    if (typeof token !== 'string' || token === '' || !Number.isFinite(expiresInS)) {
      // The body holds a token at best half readable; it is not kept in the error.
      throw new SourceDataError('SIMATIC IT answered the token request with an unreadable body', {
        details: { status: answer.status, request, body: '(token response withheld)' },
      });
    }
    const margin = Math.min(TOKEN_MARGIN_MS, (expiresInS * 1000) / 2);
    return { value: token, renewAtMs: startedMs + expiresInS * 1000 - margin };
  };

  /** The cached token while it has more than 60 s to live, else a new one (one request for concurrent callers). */
  const accessToken = async (signal?: AbortSignal): Promise<string> => {
    if (cached && deps.clock.now().getTime() < cached.renewAtMs) return cached.value;
    pending ??= requestToken(signal).finally(() => {
      pending = undefined;
    });
    cached = await pending;
    return cached.value;
  };

  const getPage = async (url: URL, signal?: AbortSignal): Promise<Answer> => {
    const request = `GET ${url.href}`;
    const get = async (token: string) =>
      exchange(
        url,
        {
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: 'application/json',
            Prefer: `odata.maxpagesize=${pageSize}`,
          },
        },
        request,
        signal,
      );
    const token = await accessToken(signal);
    let answer = await get(token);
    if (answer.status === 401) {
      // The token may have been revoked or expired early: one new token, one retry.
      if (cached?.value === token) cached = undefined;
      answer = await get(await accessToken(signal));
      if (answer.status === 401) {
        throw new SourceUnavailableError(
          `SIMATIC IT rejected a fresh token (401): check the credentials of client ${deps.clientId} and their rights on ${app}`,
          { details: { status: 401, request } },
        );
      }
    }
    if (answer.status === 200) return answer;
    const retryable = answer.status >= 500 || answer.status === 429 || answer.status === 408;
    const message = `SIMATIC IT answered ${answer.status}${odataMessage(answer.text)}`;
    if (retryable) {
      throw new SourceUnavailableError(`${message}: the MES is unavailable, check its services`, {
        details: { status: answer.status, request },
      });
    }
    throw new SourceDataError(`${message}: check the app ${app} and the entity set name`, {
      details: { status: answer.status, request, body: answer.text.slice(0, MAX_BODY_IN_ERROR) },
    });
  };

  async function* fetchPages(
    entity: MesEntity,
    window: MesWindow,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<MesPage> {
    const entitySet = deps.entities?.[entity] ?? SIMATIC_DEFAULT_ENTITY_SETS[entity];
    let url: URL | undefined = new URL(
      `sit-svc/Application/${encodeURIComponent(app)}/odata/${encodeURIComponent(entitySet)}`,
      base,
    );
    url.searchParams.set(
      '$filter',
      `LastUpdatedOn ge ${window.from.toISOString()} and LastUpdatedOn lt ${window.to.toISOString()}`,
    );
    url.searchParams.set('$orderby', 'LastUpdatedOn,Id');
    const fetches = new Map<string, number>();
    while (url) {
      const request: string = `GET ${url.href}`;
      const times = (fetches.get(url.href) ?? 0) + 1;
      if (times > MAX_FETCHES_PER_PAGE) {
        throw new SourceDataError(
          `SIMATIC IT links the same page again and again (${MAX_FETCHES_PER_PAGE} times): the paging loops`,
          { details: { status: null, request, body: '' } },
        );
      }
      fetches.set(url.href, times);
      const answer = await getPage(url, options.signal);
      const page = readPage(answer, request);
      yield { records: page.records, request };
      url = page.nextLink === undefined ? undefined : sameOrigin(page.nextLink, url, answer, request);
    }
  }

  const sameOrigin = (link: string, current: URL, answer: Answer, request: string): URL => {
    let next: URL;
    try {
      next = new URL(link, current);
    } catch {
      throw dataError(`SIMATIC IT sent an unreadable @odata.nextLink`, answer, request);
    }
    if (next.origin !== base.origin) {
      // Following it would hand the bearer token to another host.
      throw dataError(
        `SIMATIC IT sent an @odata.nextLink to another origin (${next.origin})`,
        answer,
        request,
      );
    }
    return next;
  };

  return { vendor: 'simatic-it', facilityId: 'augsburg', fetch: fetchPages };
}

function readPage(answer: Answer, request: string): { records: MesRecord[]; nextLink?: string } {
  let body: unknown;
  try {
    body = parseVendorJson(answer.text);
  } catch (error) {
    if (!(error instanceof VendorJsonError)) body = undefined;
    else
      throw dataError(
        `SIMATIC IT answered with JSON that cannot be kept as sent: ${error.message}`,
        answer,
        request,
      );
  }
  if (!isObject(body) || !Array.isArray(body['value'])) {
    throw dataError('SIMATIC IT answered with a body that is not an OData collection', answer, request);
  }
  const nextLink = body['@odata.nextLink'];
  if (nextLink !== undefined && nextLink !== null && typeof nextLink !== 'string') {
    throw dataError('SIMATIC IT answered with an @odata.nextLink that is not a string', answer, request);
  }
  const records = body['value'].map((item: unknown, i: number): MesRecord => {
    if (!isObject(item)) throw dataError(`SIMATIC IT record ${i} is not an object`, answer, request);
    const id = item['Id'];
    if ((typeof id !== 'string' || id === '') && typeof id !== 'number') {
      throw dataError(`SIMATIC IT record ${i} has no Id`, answer, request);
    }
    const modifiedAt = parseTime(item['LastUpdatedOn']);
    if (!modifiedAt) {
      throw dataError(
        `SIMATIC IT record ${String(id)} has an unreadable LastUpdatedOn ${JSON.stringify(item['LastUpdatedOn'])}`,
        answer,
        request,
      );
    }
    return { fields: vendorFields(item), key: String(id), modifiedAt };
  });
  return typeof nextLink === 'string' ? { records, nextLink } : { records };
}

/** An Edm.DateTimeOffset (ISO 8601 with Z or an offset) as a UTC Date; undefined for anything else. */
function parseTime(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const m = ISO_UTC.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', zone] = m;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${fraction.slice(0, 4)}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 2026-02-30 over to March; a date that does not exist is unreadable, not guessed.
  const calendar = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (calendar.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return undefined;
  }
  return new Date(ms);
}

function dataError(message: string, answer: Answer, request: string): SourceDataError {
  return new SourceDataError(message, {
    details: { status: answer.status, request, body: answer.text.slice(0, MAX_BODY_IN_ERROR) },
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function oauthErrorCode(text: string): string | undefined {
  const body = parseJson(text);
  const error = isObject(body) ? body['error'] : undefined;
  return typeof error === 'string' && /^[\w.-]{1,64}$/.test(error) ? error : undefined;
}

function odataMessage(text: string): string {
  const body = parseJson(text);
  const error = isObject(body) ? body['error'] : undefined;
  const message = isObject(error) ? error['message'] : undefined;
  return typeof message === 'string' ? ` (${message.slice(0, 300)})` : '';
}

/** application/x-www-form-urlencoded, which RFC 6749 §2.3.1 applies to id and secret before Basic. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
