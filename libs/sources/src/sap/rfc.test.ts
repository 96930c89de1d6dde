import { describe, expect, it } from 'vitest';
import {
  assertBapiOk,
  bapiErrors,
  callRfc,
  classifyRfcError,
  fromRfcError,
  isRfcError,
  type RfcPool,
} from './rfc.js';

const communication = {
  name: 'RfcLibError',
  group: 4,
  code: 1,
  codeString: 'RFC_COMMUNICATION_FAILURE',
  key: 'RFC_COMMUNICATION_FAILURE',
  message: 'partner not reached',
};
const logon = {
  ...communication,
  group: 3,
  code: 2,
  key: 'RFC_LOGON_FAILURE',
  message: 'Name or password is incorrect',
};
const abap = (group: number, code: number, key: string) => ({
  name: 'ABAPError',
  group,
  code,
  codeString: 'x',
  key,
  message: key,
  abapMsgClass: 'M7',
  abapMsgType: 'E',
  abapMsgNumber: '001',
  abapMsgV1: '',
  abapMsgV2: '',
  abapMsgV3: '',
  abapMsgV4: '',
});

describe('node-rfc errors', () => {
  it('recognises the plain error objects node-rfc throws, whatever the case of the name, and nothing else', () => {
    expect(isRfcError(communication)).toBe(true);
    expect(isRfcError({ ...abap(1, 5, 'NOT_FOUND'), name: 'AbapError' })).toBe(true);
    expect(isRfcError({ name: 'nodeRfcError', message: "field 'X' not found" })).toBe(true);
    expect(isRfcError(new Error('RfcLibError'))).toBe(false);
    expect(isRfcError({ name: 'CommunicationError', message: 'PyRFC, not node-rfc' })).toBe(false);
  });

  it('retries communication failures and ABAP runtime failures only', () => {
    expect(classifyRfcError(communication as never)).toBe('communication');
    expect(classifyRfcError(abap(2, 3, 'TIME_OUT') as never)).toBe('abap_runtime');
    expect(classifyRfcError(logon as never)).toBe('logon');
    expect(classifyRfcError(abap(1, 5, 'NOT_FOUND') as never)).toBe('abap_application');
    expect(classifyRfcError(abap(1, 4, 'RFC_ABAP_MESSAGE') as never)).toBe('abap_application');
    expect(classifyRfcError({ name: 'nodeRfcError', message: 'x' })).toBe('conversion');

    const transient = fromRfcError(communication, { rfm: 'BAPI_PO_GETDETAIL' });
    expect(transient).toMatchObject({ code: 'source.unavailable', retryable: true });
    expect(transient.details).toMatchObject({ rfcClass: 'communication', rfc: { group: 4, code: 1 } });
    expect(fromRfcError(abap(2, 3, 'TIME_OUT'), { rfm: 'X' }).retryable).toBe(true);
    expect(fromRfcError(logon, { rfm: 'X' })).toMatchObject({ code: 'config.invalid', retryable: false });
    expect(fromRfcError(logon, { rfm: 'X' }).message).toContain('sap-rfc-password');
    const app = fromRfcError(abap(1, 5, 'NOT_FOUND'), { rfm: 'BAPI_X', what: 'PO 1' });
    expect(app).toMatchObject({ code: 'source.data_invalid', retryable: false });
    expect(app.message).toBe('BAPI_X (PO 1): ABAPError NOT_FOUND: NOT_FOUND');
  });

  it('treats RETURN TYPE E or A as a failure of a call that succeeded, in BAPIRET2 tables and BAPIRETURN structures', () => {
    expect(
      bapiErrors({
        RETURN: [
          { TYPE: 'S', MESSAGE: 'ok' },
          { TYPE: 'W', MESSAGE: 'careful' },
        ],
      }),
    ).toEqual([]);
    expect(bapiErrors({ RETURN: { TYPE: 'A', CODE: 'XX001', MESSAGE: 'abort' } })).toHaveLength(1);
    expect(() =>
      assertBapiOk('BAPI_MATERIAL_GETLIST', {
        RETURN: [{ TYPE: 'E', ID: 'M3', NUMBER: '305', MESSAGE: 'no auth' }],
      }),
    ).toThrow('BAPI_MATERIAL_GETLIST: RETURN E M3 305: no auth');
    try {
      assertBapiOk(
        'BAPI_PO_GETDETAIL',
        { RETURN: [{ TYPE: 'E', CODE: '06019', MESSAGE: 'does not exist' }] },
        'PO 1',
      );
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'source.data_invalid', details: { rfcClass: 'bapi_return' } });
    }
  });

  it('reads only structures in RETURN, and quotes at most the 220 characters of a BAPIRET2 message', () => {
    const hostile = {
      RETURN: [null, 'E', { TYPE: { x: 1 } }, { TYPE: 'E', MESSAGE: `a\n${'x'.repeat(100_000)}` }],
    };
    expect(bapiErrors(hostile as never)).toHaveLength(1);
    try {
      assertBapiOk('BAPI_GOODSMVT_GETITEMS', hostile as never);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(300);
      expect(e).toMatchObject({ details: { return: [{ TYPE: 'E' }] } });
    }
  });

  it('always gives the connection back to the pool, and maps what the call threw', async () => {
    const released: unknown[] = [];
    const client = {
      alive: true,
      open: async () => undefined,
      close: async () => undefined,
      call: async () => {
        throw communication;
      },
    };
    const pool: RfcPool = {
      acquire: async () => client,
      release: async (c) => void released.push(c),
      closeAll: async () => undefined,
      status: { ready: 0, leased: 0 },
    };
    await expect(callRfc(pool, 'RFC_READ_TABLE', {})).rejects.toMatchObject({ code: 'source.unavailable' });
    expect(released).toEqual([client]);
  });
});
