import { ConfigError, jsonText, SourceDataError, SourceUnavailableError } from '@aurora/core';
import type {
  MesConnector,
  MesConnectorDeps,
  MesEntity,
  MesPage,
  MesRecord,
  MesWindow,
} from '../connector.js';
import { parseVendorJson, vendorFields } from '../vendor-json.js';

/**
 * The connector of the Regensburg plant's home-grown MES: one GET per entity with HTTP Basic
 * authentication, answered by ONE JSON array of everything the MES keeps online. The API takes no window,
 * so the connector downloads the whole array every time and keeps the records whose `geaendert_am` lies in
 * the window. docs/mes/regensburg.md describes the protocol and the fields.
 */

/** The secret holding the Basic-auth password of `username`. */
export const REGENSBURG_PASSWORD_SECRET = 'mes-regensburg-password';
export const REGENSBURG_DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;

export interface RegensburgConnectorOptions extends MesConnectorDeps {
  /** The MES account the platform reads with (not secret); its password is the secret above. */
  username: string;
  /** A larger body is refused (SourceDataError) rather than held in memory; default 256 MiB. */
  maxBodyBytes?: number;
}

const PATHS: Readonly<Record<MesEntity, string>> = {
  production_orders: '/api/productionOrders',
  machine_states: '/api/machineStates',
  quality_measurements: '/api/qualityMeasurements',
};

type JsonObject = { [name: string]: unknown };

/** The vendor's identity of a record per entity; undefined when the record lacks it. */
const KEYS: Readonly<Record<MesEntity, { fields: string; of: (r: JsonObject) => string | undefined }>> = {
  production_orders: {
    fields: 'auftragsnummer',
    of: (r) => nonEmptyString(r['auftragsnummer']),
  },
  machine_states: {
    fields: 'maschine and von',
    of: (r) => {
      const machine = nonEmptyString(r['maschine']);
      const from = r['von'];
      return machine !== undefined && Number.isSafeInteger(from) ? `${machine}|${from}` : undefined;
    },
  },
  quality_measurements: {
    fields: 'messung_id',
    of: (r) => {
      const id = r['messung_id'];
      return Number.isSafeInteger(id) ? String(id) : nonEmptyString(id);
    },
  },
};

const BODY_EXCERPT_CHARS = 64 * 1024;
const excerpt = (text: string): string => text.slice(0, BODY_EXCERPT_CHARS);
const nonEmptyString = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The Regensburg MES connector. Every call reads the password through `deps.secrets` (rotation is picked
 * up), carries an AbortSignal (the caller's and `timeoutMs`), and yields exactly one page.
 */
export function createRegensburgConnector(deps: RegensburgConnectorOptions): MesConnector {
  const base = new URL(deps.baseUrl);
  if (base.username !== '' || base.password !== '') {
    throw new ConfigError('the Regensburg MES URL must not carry credentials', [
      { variable: 'baseUrl', problem: 'contains user info; set the username option and the password secret' },
    ]);
  }
  if (deps.username.includes(':')) {
    throw new ConfigError('the Regensburg MES user name must not contain ":" (HTTP Basic)', [
      { variable: 'username', problem: 'contains ":"' },
    ]);
  }
  const root = base.href.replace(/\/+$/, '');
  // After a 401 the password may have been rotated: the next call reads it past any cache.
  const auth = { rejected: false };
  return {
    vendor: 'regensburg-mes',
    facilityId: 'regensburg',
    fetch: (entity, window, options) =>
      fetchEntity(deps, auth, `${root}${PATHS[entity]}`, entity, window, options),
  };
}

async function* fetchEntity(
  deps: RegensburgConnectorOptions,
  auth: { rejected: boolean },
  url: string,
  entity: MesEntity,
  window: MesWindow,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<MesPage> {
  const request = `GET ${url}`;
  const { status, text } = await download(deps, auth, url, request, options.signal);
  yield { records: recordsIn(entity, text, window, { status, request }), request };
}

interface Exchange {
  status: number;
  request: string;
}

async function download(
  deps: RegensburgConnectorOptions,
  auth: { rejected: boolean },
  url: string,
  request: string,
  callerSignal: AbortSignal | undefined,
): Promise<{ status: number; text: string }> {
  const timeoutMs = deps.timeoutMs ?? 30_000;
  const password = await deps.secrets.get(REGENSBURG_PASSWORD_SECRET, {
    ...(callerSignal ? { signal: callerSignal } : {}),
    refresh: auth.rejected,
  });
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any(callerSignal ? [callerSignal, timeout] : [timeout]);
  // A failure after the caller cancelled is the cancellation, not an outage.
  const transportFailure = (error: unknown, during: string): never => {
    if (callerSignal?.aborted) throw callerSignal.reason;
    if (timeout.aborted) {
      throw new SourceUnavailableError(
        `MES Regensburg did not ${during} within ${timeoutMs} ms: check that the MES is up and reachable`,
        { cause: error, details: { status: null, request } },
      );
    }
    throw new SourceUnavailableError(
      `MES Regensburg could not be reached (${errorText(error)}): check the URL and the network`,
      { cause: error, details: { status: null, request } },
    );
  };

  let response: Response;
  try {
    response = await fetch(url, {
      headers: {
        authorization: `Basic ${Buffer.from(`${deps.username}:${password}`, 'utf8').toString('base64')}`,
        accept: 'application/json',
      },
      signal,
    });
  } catch (error) {
    return transportFailure(error, 'answer');
  }
  const { status } = response;
  auth.rejected = status === 401;
  if (!response.ok) {
    const reason = await errorReason(response);
    const details = { status, request };
    if (status === 401 || status === 403) {
      throw new SourceUnavailableError(
        `MES Regensburg rejected the credentials (HTTP ${status}${reason}): check the username ` +
          `'${deps.username}' and the secret ${REGENSBURG_PASSWORD_SECRET}`,
        { details },
      );
    }
    const hint = status === 429 || status >= 500 ? 'the MES is failing or busy' : 'check the URL';
    throw new SourceUnavailableError(`MES Regensburg answered HTTP ${status}${reason}: ${hint}`, { details });
  }

  const limit = deps.maxBodyBytes ?? REGENSBURG_DEFAULT_MAX_BODY_BYTES;
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(`declares ${declared} bytes`, limit, '', { status, request });
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const partial = () => excerpt(new TextDecoder().decode(headBytes(chunks)));
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      // Throwing out of the loop cancels the stream.
      if (size > limit) {
        throw tooLarge(`exceeds ${size - chunk.byteLength} bytes`, limit, partial(), { status, request });
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof SourceDataError) throw error;
    if (callerSignal?.aborted || timeout.aborted) return transportFailure(error, 'send the whole body');
    throw new SourceDataError(
      `MES Regensburg's body broke off after ${size} bytes (${errorText(error)}): it cannot be read`,
      { cause: error, details: { status, request, body: partial() } },
    );
  }
  const bytes = Buffer.concat(chunks);
  try {
    return { status, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch (error) {
    throw new SourceDataError('MES Regensburg sent a body that is not UTF-8', {
      cause: error,
      details: { status, request, body: excerpt(new TextDecoder().decode(bytes)) },
    });
  }
}

/** Enough of the first chunks for the 64 KiB excerpt, without joining a large body. */
function headBytes(chunks: readonly Uint8Array[]): Buffer {
  const head: Uint8Array[] = [];
  let size = 0;
  for (const chunk of chunks) {
    if (size >= BODY_EXCERPT_CHARS * 4) break;
    head.push(chunk);
    size += chunk.byteLength;
  }
  return Buffer.concat(head);
}

const tooLarge = (what: string, limit: number, body: string, exchange: Exchange) =>
  new SourceDataError(
    `MES Regensburg's body ${what}, more than maxBodyBytes (${limit}): raise the limit or reduce the retention`,
    { details: { ...exchange, body: excerpt(body) } },
  );

/** The MES's `{"fehler": "..."}` text, for the message; empty when there is none. */
async function errorReason(response: Response): Promise<string> {
  try {
    const text = (await response.text()).slice(0, BODY_EXCERPT_CHARS);
    const parsed: unknown = JSON.parse(text);
    const fehler = isObject(parsed) ? nonEmptyString(parsed['fehler']) : undefined;
    return fehler === undefined ? '' : `, "${fehler.slice(0, 200)}"`;
  } catch {
    return '';
  }
}

const errorText = (error: unknown): string => {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error instanceof Error ? `${error.message}${cause}` : String(error);
};

/**
 * The records of the array whose `geaendert_am` lies in [from, to). Anything not an array of objects, or a
 * record whose modification time is not an integer of epoch milliseconds, makes the whole body unreadable:
 * nothing is guessed, the body goes to the dead letter.
 */
function recordsIn(entity: MesEntity, text: string, window: MesWindow, exchange: Exchange): MesRecord[] {
  const unreadable = (problem: string, cause?: unknown, extra: Record<string, unknown> = {}) =>
    new SourceDataError(`MES Regensburg ${PATHS[entity]}: ${problem}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { ...exchange, body: excerpt(text), ...extra },
    });
  let parsed: unknown;
  try {
    parsed = parseVendorJson(text);
  } catch (error) {
    throw unreadable(`the body is not valid JSON as sent (${errorText(error)})`, error);
  }
  if (!Array.isArray(parsed)) throw unreadable('the body is not a JSON array');
  const from = window.from.getTime();
  const to = window.to.getTime();
  const key = KEYS[entity];
  const records: MesRecord[] = [];
  for (const [index, item] of parsed.entries()) {
    const culprit = () => ({ index, record: excerpt(jsonText(item) ?? String(item)) });
    if (!isObject(item)) throw unreadable(`element ${index} is not an object`, undefined, culprit());
    const modified = item['geaendert_am'];
    if (
      typeof modified !== 'number' ||
      !Number.isSafeInteger(modified) ||
      Number.isNaN(new Date(modified).getTime())
    ) {
      throw unreadable(
        `record ${index} has no geaendert_am in epoch milliseconds (${JSON.stringify(modified) ?? 'missing'})`,
        undefined,
        culprit(),
      );
    }
    if (modified < from || modified >= to) continue;
    const id = key.of(item);
    if (id === undefined)
      throw unreadable(`record ${index} lacks its key (${key.fields})`, undefined, culprit());
    // The fields as delivered: scalars as they are, nested objects and arrays as their JSON text.
    records.push({ fields: vendorFields(item), key: id, modifiedAt: new Date(modified) });
  }
  return records;
}
