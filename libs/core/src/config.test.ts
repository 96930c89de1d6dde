import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';

describe('loadConfig', () => {
  it('gives the local defaults when nothing is set', () => {
    const config = loadConfig({}, '/work/x');
    expect(config.home).toBe('/work/x/.aurora');
    expect(config.port).toBe(7071);
    expect(config.storage).toEqual({ kind: 'azurite', blobPort: 10000, queuePort: 10001, tablePort: 10002 });
    expect(config.mqtt).toEqual({ kind: 'embedded', port: 1883 });
    expect(config.retryDelaysMs).toEqual([30_000, 60_000, 120_000]);
    expect(config.simulate).toBe(true);
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({ AURORA_PORT: '', AURORA_MQTT_URL: '' }, '/w');
    expect(config.port).toBe(7071);
    expect(config.mqtt.kind).toBe('embedded');
  });

  it('reads "false" as false, not as a truthy string', () => {
    expect(loadConfig({ AURORA_SIMULATE: 'false' }).simulate).toBe(false);
    expect(loadConfig({ AURORA_SIMULATE: '0' }).simulate).toBe(false);
  });

  it('switches to real Azure storage and a real broker when given their addresses', () => {
    const config = loadConfig({
      AURORA_STORAGE_CONNECTION_STRING: 'DefaultEndpointsProtocol=https;AccountName=lake;AccountKey=x',
      AURORA_MQTT_URL: 'mqtt://127.0.0.1:1884',
      AURORA_RETRY_DELAYS_S: '1,2.5',
    });
    expect(config.storage.kind).toBe('azure');
    expect(config.mqtt).toEqual({ kind: 'external', url: 'mqtt://127.0.0.1:1884' });
    expect(config.retryDelaysMs).toEqual([1000, 2500]);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ AURORA_PORT: 'seventy', AURORA_MQTT_URL: 'http://x', AURORA_LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.code).toBe('config.invalid');
    expect(configError.issues.map((i) => i.variable).sort()).toEqual([
      'AURORA_LOG_LEVEL',
      'AURORA_MQTT_URL',
      'AURORA_PORT',
    ]);
    expect(configError.message).toContain('AURORA_PORT="seventy"');
  });

  it('rejects a port out of range and a bad retry list', () => {
    expect(() => loadConfig({ AURORA_PORT: '70000' })).toThrow(/AURORA_PORT/);
    expect(() => loadConfig({ AURORA_RETRY_DELAYS_S: '30;60' })).toThrow(/AURORA_RETRY_DELAYS_S/);
  });

  it('points each MES at a real system only with its client settings, and names what is missing', () => {
    expect(loadConfig({}).mes).toEqual({
      overlapMs: 300_000,
      initialLookbackMs: 72 * 3_600_000,
      timeoutMs: 30_000,
      pageSize: 500,
    });
    const config = loadConfig({
      AURORA_MES_SIMATIC_URL: 'https://mes-aug.plant.example',
      AURORA_MES_SIMATIC_GRANT: 'client_credentials',
      AURORA_MES_SIMATIC_CLIENT_ID: 'aurora',
      AURORA_MES_HYDRA_URL: 'https://mip.ing.example',
      AURORA_MES_HYDRA_ACCESS_ID: '00123456',
    });
    expect(config.mes.simatic).toEqual({
      url: 'https://mes-aug.plant.example',
      grant: 'client_credentials',
      clientId: 'aurora',
    });
    expect(config.mes.hydra).toEqual({ url: 'https://mip.ing.example', accessId: '00123456' });
    expect(config.mes.regensburg).toBeUndefined();

    let error: unknown;
    try {
      loadConfig({
        AURORA_MES_SIMATIC_URL: 'https://mes-aug.plant.example',
        AURORA_MES_REGENSBURG_URL: 'https://mes-rgb.plant.example',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
      'AURORA_MES_REGENSBURG_USERNAME',
      'AURORA_MES_SIMATIC_CLIENT_ID',
      'AURORA_MES_SIMATIC_USERNAME',
    ]);
    expect(() =>
      loadConfig({ AURORA_MES_HYDRA_URL: 'https://x.example', AURORA_MES_HYDRA_ACCESS_ID: '123' }),
    ).toThrow(/AURORA_MES_HYDRA_ACCESS_ID.*8-digit/);
  });

  it('reaches SAP over RFC only with system number, client and user, and keeps the pool ordered', () => {
    const local = loadConfig({});
    expect(local.sap).toMatchObject({ pool: { low: 2, high: 4 }, goodsMovementLookbackDays: 3 });
    expect(local.sap.connection).toBeUndefined();
    const config = loadConfig({
      AURORA_SAP_ASHOST: 'sap-prd.plant.example',
      AURORA_SAP_SYSNR: '00',
      AURORA_SAP_CLIENT: '100',
      AURORA_SAP_USER: 'AURORA_RFC',
      AURORA_SAP_POOL_HIGH: '8',
    });
    expect(config.sap.connection).toEqual({
      ashost: 'sap-prd.plant.example',
      sysnr: '00',
      client: '100',
      user: 'AURORA_RFC',
      lang: 'EN',
    });
    expect(config.sap.pool).toEqual({ low: 2, high: 8 });
    let error: unknown;
    try {
      loadConfig({ AURORA_SAP_ASHOST: 'sap-prd', AURORA_SAP_POOL_LOW: '5', AURORA_SAP_POOL_HIGH: '3' });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
      'AURORA_SAP_CLIENT',
      'AURORA_SAP_POOL_HIGH',
      'AURORA_SAP_SYSNR',
      'AURORA_SAP_USER',
    ]);
    expect(() =>
      loadConfig({ AURORA_SAP_DEST: 'PRD', AURORA_SAP_USER: 'X', AURORA_SAP_CLIENT: '1' }),
    ).toThrow(/AURORA_SAP_CLIENT.*3-digit/);
  });

  it('points the ERP at a real Oracle only with its user, and checks the server zone', () => {
    expect(loadConfig({}).erp).toMatchObject({
      timeZone: 'Europe/Berlin',
      standInVersion: '19c',
      chunkRows: 50_000,
    });
    expect(() => loadConfig({ AURORA_ERP_CONNECT_STRING: 'ebs-db:1521/EBSPROD' })).toThrow(/AURORA_ERP_USER/);
    expect(() => loadConfig({ AURORA_ERP_DB_TIME_ZONE: 'Mars/Olympus' })).toThrow(/AURORA_ERP_DB_TIME_ZONE/);
    const erp = loadConfig({
      AURORA_ERP_CONNECT_STRING: 'ebs-db:1521/EBSPROD',
      AURORA_ERP_USER: 'AURORA_CDC',
      AURORA_ERP_ORACLE_CLIENT_LIB_DIR: '/opt/oracle/instantclient_19_24',
    }).erp;
    expect(erp.oracle).toEqual({
      connectString: 'ebs-db:1521/EBSPROD',
      user: 'AURORA_CDC',
      clientLibDir: '/opt/oracle/instantclient_19_24',
    });
  });
});
