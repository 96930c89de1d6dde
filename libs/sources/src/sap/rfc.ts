import { AuroraError, SourceDataError, SourceUnavailableError } from '@aurora/core';

/**
 * What an RFC call takes and returns, as node-rfc maps ABAP types: structures are objects, tables arrays
 * of objects, CHAR/NUMC/DATS/TIMS/BCD strings (BCD as a string by default), INT/FLOAT numbers, RAW Buffers.
 */
export type RfcScalar = string | number | Uint8Array;
export interface RfcStructure {
  [field: string]: RfcScalar | RfcStructure | RfcStructure[];
}
export type RfcTable = RfcStructure[];
export type RfcParameterValue = RfcScalar | RfcStructure | RfcTable;
export type RfcParameters = Record<string, RfcParameterValue>;

export interface RfcCallOptions {
  /** Seconds; node-rfc cancels the call after it. */
  timeout?: number;
}

/**
 * A connection to an SAP system, as node-rfc's `Client` offers it in its promise form (`open()`,
 * `call(rfm, params, options)`, `close()`, `alive`). The connector only ever uses this, so the RFC
 * stand-in and node-rfc are interchangeable.
 */
export interface RfcClient {
  readonly alive: boolean;
  open(): Promise<unknown>;
  close(): Promise<unknown>;
  call(rfmName: string, params: RfcParameters, options?: RfcCallOptions): Promise<RfcStructure>;
}

/** node-rfc's `Pool`: managed clients, acquired and released (they are never opened or closed by hand). */
export interface RfcPool {
  acquire(): Promise<RfcClient>;
  release(client: RfcClient): Promise<unknown>;
  closeAll(): Promise<unknown>;
  readonly status: { ready: number; leased: number };
}

/**
 * node-rfc's errors are plain objects, not Error instances (SOURCES-NOTES §2.1). RfcLibError groups:
 * 3 LOGON_FAILURE, 4 COMMUNICATION_FAILURE, 5 EXTERNAL_RUNTIME_FAILURE.
 */
export interface RfcLibError {
  name: 'RfcLibError';
  group: number;
  code: number;
  codeString: string;
  key: string;
  message: string;
}

/** ABAP groups 1 ABAP_APPLICATION_FAILURE, 2 ABAP_RUNTIME_FAILURE, 6 EXTERNAL_APPLICATION, 7 AUTHORIZATION. */
export interface AbapError {
  name: 'ABAPError';
  group: number;
  code: number;
  codeString: string;
  key: string;
  message: string;
  abapMsgClass: string;
  abapMsgType: string;
  abapMsgNumber: string;
  abapMsgV1: string;
  abapMsgV2: string;
  abapMsgV3: string;
  abapMsgV4: string;
}

/** A conversion or parameter error raised by node-rfc itself, before or after the call. */
export interface NodeRfcError {
  name: 'nodeRfcError';
  message: string;
  rfmPath?: { rfm?: string; parameter?: string; table?: string; table_line?: number; field?: string };
}

export type RfcError = RfcLibError | AbapError | NodeRfcError;

/** RFC_RC codes node-rfc reports in `code`. */
export const RFC_CODES = {
  RFC_COMMUNICATION_FAILURE: 1,
  RFC_LOGON_FAILURE: 2,
  RFC_ABAP_RUNTIME_FAILURE: 3,
  RFC_ABAP_MESSAGE: 4,
  RFC_ABAP_EXCEPTION: 5,
  RFC_INVALID_PARAMETER: 20,
} as const;
/** RFC_ERROR_GROUP values node-rfc reports in `group`. */
export const RFC_GROUPS = {
  ABAP_APPLICATION_FAILURE: 1,
  ABAP_RUNTIME_FAILURE: 2,
  LOGON_FAILURE: 3,
  COMMUNICATION_FAILURE: 4,
  EXTERNAL_RUNTIME_FAILURE: 5,
  EXTERNAL_APPLICATION_FAILURE: 6,
  EXTERNAL_AUTHORIZATION_FAILURE: 7,
} as const;

/**
 * Whether something thrown is one of node-rfc's error objects. The name is matched case-insensitively:
 * node-rfc's usage docs say `AbapError`, its C++ source emits `ABAPError`.
 */
export function isRfcError(thrown: unknown): thrown is RfcError {
  if (typeof thrown !== 'object' || thrown === null) return false;
  const name = (thrown as { name?: unknown }).name;
  return typeof name === 'string' && /^(abaperror|rfcliberror|noderfcerror)$/i.test(name);
}

export type RfcErrorClass = 'communication' | 'abap_runtime' | 'logon' | 'abap_application' | 'conversion';

/**
 * How a failure is treated: communication failures (RfcLibError group 4 or code 1) and ABAP runtime
 * failures (code 3, short dumps such as a timeout) are transient; logon failures need someone to fix the
 * credentials; ABAP application errors (a BAPI's exception, a message) and conversion errors are about
 * the request or the data and would fail again.
 */
export function classifyRfcError(error: RfcError): RfcErrorClass {
  const name = error.name.toLowerCase();
  if (name === 'noderfcerror') return 'conversion';
  const { group, code } = error as RfcLibError | AbapError;
  if (name === 'rfcliberror') {
    if (group === RFC_GROUPS.LOGON_FAILURE || code === RFC_CODES.RFC_LOGON_FAILURE) return 'logon';
    if (group === RFC_GROUPS.COMMUNICATION_FAILURE || code === RFC_CODES.RFC_COMMUNICATION_FAILURE)
      return 'communication';
    return 'abap_application';
  }
  if (code === RFC_CODES.RFC_ABAP_RUNTIME_FAILURE) return 'abap_runtime';
  if (code === RFC_CODES.RFC_COMMUNICATION_FAILURE) return 'communication';
  if (code === RFC_CODES.RFC_LOGON_FAILURE || group === RFC_GROUPS.EXTERNAL_AUTHORIZATION_FAILURE)
    return 'logon';
  return 'abap_application';
}

/** Copies the fields of node-rfc's error object (it is not JSON-safe by itself when it carries Buffers). */
const plain = (error: RfcError): Record<string, unknown> =>
  Object.fromEntries(Object.entries(error).filter(([, v]) => typeof v !== 'function'));

/**
 * Maps anything an RFC call threw to an AuroraError, once, at the call boundary. The node-rfc object is
 * kept whole in `details.rfc` (dead letters carry it); `details.rfcClass` says how it was classified.
 */
export function fromRfcError(thrown: unknown, context: { rfm: string; what?: string }): AuroraError {
  if (thrown instanceof AuroraError) return thrown;
  if (!isRfcError(thrown)) {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    return new AuroraError('internal', `${context.rfm}: ${message}`, { cause: thrown });
  }
  const rfcClass = classifyRfcError(thrown);
  const what = context.what ? ` (${context.what})` : '';
  const details = { rfm: context.rfm, rfcClass, rfc: plain(thrown) };
  const text = `${context.rfm}${what}: ${thrown.name} ${'key' in thrown ? `${thrown.key}: ` : ''}${thrown.message}`;
  switch (rfcClass) {
    case 'communication':
    case 'abap_runtime':
      return new SourceUnavailableError(text, { cause: thrown, details });
    case 'logon':
      return new AuroraError(
        'config.invalid',
        `${text}; check AURORA_SAP_USER and the secret sap-rfc-password`,
        { cause: thrown, details },
      );
    default:
      return new SourceDataError(text, { cause: thrown, details });
  }
}

/** A BAPI RETURN row: BAPIRET2 (TYPE, ID, NUMBER, MESSAGE, ...) or the older BAPIRETURN (TYPE, CODE, MESSAGE, ...). */
export interface BapiReturn {
  TYPE: string;
  MESSAGE: string;
  ID?: string;
  NUMBER?: string;
  CODE?: string;
  [field: string]: RfcParameterValue | undefined;
}

/**
 * BAPIs report errors in RETURN, not as exceptions: a call that succeeded with a RETURN row of TYPE E
 * (error) or A (abort) failed. RETURN is a structure in some BAPIs (BAPI_PO_GETDETAIL's BAPIRETURN table,
 * BAPI_MATERIAL_STOCK_REQ_LIST's structure) and a table in others; both are read.
 */
export function bapiErrors(result: RfcStructure): BapiReturn[] {
  const ret = result['RETURN'];
  const rows = Array.isArray(ret)
    ? ret
    : ret && typeof ret === 'object' && !(ret instanceof Uint8Array)
      ? [ret]
      : [];
  return (rows as unknown[]).filter(
    (r): r is BapiReturn =>
      typeof r === 'object' &&
      r !== null &&
      ((r as BapiReturn).TYPE === 'E' || (r as BapiReturn).TYPE === 'A'),
  );
}

/** Throws a SourceDataError (not retried) carrying the RETURN rows when a BAPI reported E or A. */
export function assertBapiOk(rfm: string, result: RfcStructure, what?: string): void {
  const errors = bapiErrors(result);
  if (errors.length === 0) return;
  const first = errors[0]!;
  const id = first.ID ? `${first.ID} ${first.NUMBER ?? ''}`.trim() : (first.CODE ?? '');
  // BAPIRET2-MESSAGE is 220 characters: more is not SAP's message, and the rows are in the details anyway.
  const message = String(first.MESSAGE).slice(0, 220);
  throw new SourceDataError(
    `${rfm}${what ? ` (${what})` : ''}: RETURN ${first.TYPE}${id ? ` ${String(id).slice(0, 40)}` : ''}: ${message}`,
    { details: { rfm, rfcClass: 'bapi_return', return: errors } },
  );
}

/**
 * One call on a pooled connection: acquired, called, always released; node-rfc's errors mapped once, and
 * the BAPI's RETURN checked.
 */
export async function callRfc(
  pool: RfcPool,
  rfm: string,
  params: RfcParameters,
  options: RfcCallOptions & { what?: string; checkReturn?: boolean } = {},
): Promise<RfcStructure> {
  let client: RfcClient;
  try {
    client = await pool.acquire();
  } catch (thrown) {
    throw fromRfcError(thrown, { rfm, what: 'acquiring a connection' });
  }
  let result: RfcStructure;
  try {
    result = await client.call(
      rfm,
      params,
      options.timeout === undefined ? {} : { timeout: options.timeout },
    );
  } catch (thrown) {
    throw fromRfcError(thrown, { rfm, ...(options.what ? { what: options.what } : {}) });
  } finally {
    await pool.release(client).catch(() => undefined);
  }
  if (options.checkReturn !== false) assertBapiOk(rfm, result, options.what);
  return result;
}
