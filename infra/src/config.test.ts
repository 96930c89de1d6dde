import { describe, expect, it } from 'vitest';
import {
  type ConfigSource,
  DEPLOYMENT_KEYS,
  InfraConfigError,
  isCidr,
  parseStackConfig,
  STACK_NAMES,
  type StackName,
  sourceSettingApp,
} from './config.js';
import { OFFLINE_DEPLOYMENT_VALUES } from './inventory.js';
import { readStackFile } from './stack-file.js';

/** The stack file's `aurora:` keys plus the deployment-specific stand-ins, as `pulumi.Config` would see them. */
async function sourceFor(
  stack: StackName,
  overrides: Record<string, string | undefined> = {},
): Promise<ConfigSource> {
  const { config } = await readStackFile(stack);
  const values: Record<string, string | undefined> = { ...OFFLINE_DEPLOYMENT_VALUES };
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith('aurora:')) values[key.slice('aurora:'.length)] = value;
  }
  Object.assign(values, overrides);
  return { get: (key) => values[key] };
}

const problemsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InfraConfigError) return error.problems.map((p) => p.key);
    throw error;
  }
  throw new Error('expected an InfraConfigError');
};

describe('config', () => {
  it.each(STACK_NAMES)('reads Pulumi.%s.yaml into a valid configuration', async (stack) => {
    const config = parseStackConfig(stack, await sourceFor(stack));
    expect(config.stack).toBe(stack);
    expect(config.location).toBe('westeurope');
    expect(config.ingestion.telemetryPartitions % 3).toBe(0);
    expect(config.monitoring.logRetentionDays).toBe(90);
  });

  it('sizes prod as the design says and keeps dev and staging smaller', async () => {
    const [dev, staging, prod] = await Promise.all(
      STACK_NAMES.map(async (s) => parseStackConfig(s, await sourceFor(s))),
    );
    expect(prod!.analytics).toMatchObject({
      sqlPoolSku: 'DW1000c',
      sqlPoolBackupStorage: 'GRS',
      sparkMinNodes: 4,
      sparkMaxNodes: 16,
    });
    expect(prod!.lake.sku).toBe('Standard_RAGRS');
    const dwu = (sku: string) => Number(sku.replace(/\D/g, ''));
    expect(dwu(dev!.analytics.sqlPoolSku)).toBeLessThan(dwu(prod!.analytics.sqlPoolSku));
    expect(dwu(staging!.analytics.sqlPoolSku)).toBeLessThan(dwu(prod!.analytics.sqlPoolSku));
    expect(dev!.api.apimSku).toBe('Developer');
    expect(prod!.api.apimSku).not.toBe('Developer');
  });

  it('lists every missing deployment-specific key at once', async () => {
    const blank = Object.fromEntries(DEPLOYMENT_KEYS.map((k) => [k, undefined]));
    const source = await sourceFor('dev', blank);
    expect(problemsOf(() => parseStackConfig('dev', source)).sort()).toEqual([...DEPLOYMENT_KEYS].sort());
  });

  it('rejects a zone-redundant lake, because bronze must reach the Archive tier', async () => {
    const source = await sourceFor('staging', { lakeSku: 'Standard_GZRS' });
    expect(() => parseStackConfig('staging', source)).toThrow(/lakeSku: expected one of .*Archive/s);
  });

  it('rejects the Consumption tier, which has no rate-limit-by-key', async () => {
    const source = await sourceFor('dev', { apimSku: 'Consumption' });
    expect(() => parseStackConfig('dev', source)).toThrow(/apimSku: .*Consumption has no rate-limit-by-key/s);
  });

  it('holds prod to geo-redundancy and an APIM tier with an SLA', async () => {
    const source = await sourceFor('prod', {
      lakeSku: 'Standard_LRS',
      sqlPoolBackupStorage: 'LRS',
      apimSku: 'Developer',
    });
    expect(problemsOf(() => parseStackConfig('prod', source)).sort()).toEqual([
      'apimSku',
      'lakeSku',
      'sqlPoolBackupStorage',
    ]);
    // The same values are fine for dev.
    const dev = await sourceFor('dev', { lakeSku: 'Standard_LRS', apimSku: 'Developer' });
    expect(parseStackConfig('dev', dev).lake.sku).toBe('Standard_LRS');
  });

  it('checks cross-field rules: Spark bounds, partitions per facility, address prefixes', async () => {
    const source = await sourceFor('dev', {
      sparkMinNodes: '8',
      sparkMaxNodes: '4',
      telemetryPartitions: '4',
      spokeAddressPrefix: '10.41.0.1/20',
      functionsInstanceMemoryMb: '1024',
      logDailyCapGb: '0',
    });
    expect(problemsOf(() => parseStackConfig('dev', source)).sort()).toEqual([
      'functionsInstanceMemoryMb',
      'logDailyCapGb',
      'sparkMaxNodes',
      'spokeAddressPrefix',
      'telemetryPartitions',
    ]);
  });

  it('passes the MES endpoints on as ingest settings when a stack sets them, and checks them', async () => {
    expect(parseStackConfig('prod', await sourceFor('prod')).sourceSettings).toEqual({});
    const source = await sourceFor('prod', {
      mesSimaticUrl: 'https://mes-aug.plant.example',
      mesSimaticClientId: 'aurora',
      mesSimaticUsername: 'AUG\\svc-aurora',
      mesHydraAccessId: '00123456',
    });
    expect(parseStackConfig('prod', source).sourceSettings).toEqual({
      AURORA_MES_SIMATIC_URL: 'https://mes-aug.plant.example',
      AURORA_MES_SIMATIC_CLIENT_ID: 'aurora',
      AURORA_MES_SIMATIC_USERNAME: 'AUG\\svc-aurora',
      AURORA_MES_HYDRA_ACCESS_ID: '00123456',
    });
    const bad = await sourceFor('prod', { mesHydraUrl: 'http://mip.example', mesHydraAccessId: '123' });
    expect(problemsOf(() => parseStackConfig('prod', bad)).sort()).toEqual([
      'mesHydraAccessId',
      'mesHydraUrl',
    ]);
  });

  it('passes the SAP system on as settings of the sap app only, and checks them', async () => {
    const source = await sourceFor('prod', {
      sapAshost: 'sap-prd.plant.example',
      sapSysnr: '00',
      sapClient: '100',
      sapUser: 'AURORA_RFC',
      mesHydraAccessId: '00123456',
    });
    const settings = parseStackConfig('prod', source).sourceSettings;
    expect(
      Object.keys(settings)
        .filter((s) => sourceSettingApp(s) === 'sap')
        .sort(),
    ).toEqual(['AURORA_SAP_ASHOST', 'AURORA_SAP_CLIENT', 'AURORA_SAP_SYSNR', 'AURORA_SAP_USER']);
    expect(sourceSettingApp('AURORA_MES_HYDRA_ACCESS_ID')).toBe('ingest');
    const bad = await sourceFor('prod', { sapSysnr: '0', sapClient: '1000' });
    expect(problemsOf(() => parseStackConfig('prod', bad)).sort()).toEqual(['sapClient', 'sapSysnr']);
  });

  it('rejects an unknown stack name', async () => {
    const source = await sourceFor('dev');
    expect(() => parseStackConfig('qa', source)).toThrow(/unknown stack/);
  });

  it('recognises network addresses only', () => {
    expect(isCidr('10.60.0.0/22')).toBe(true);
    expect(isCidr('10.60.1.0/22')).toBe(false);
    expect(isCidr('10.300.0.0/16')).toBe(false);
    expect(isCidr('10.0.0.0/33')).toBe(false);
  });
});
