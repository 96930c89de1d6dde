import { describe, expect, it } from 'vitest';
import { aurora } from './cli.js';

interface Resource {
  type: string;
  name: string;
  props: Record<string, unknown>;
}

/** A resolved input by dotted path, e.g. `properties.sku.name`. */
const p = (r: Resource | undefined, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      r?.props,
    );

describe('aurora infra inventory', () => {
  it('prints the prod stack as JSON with the resolved properties platform engineers rely on', async () => {
    const run = await aurora(['infra', 'inventory', '--stack', 'prod'], {});
    expect(run.code).toBe(0);
    const resources = JSON.parse(run.stdout) as Resource[];
    const ofType = (t: string) => resources.filter((r) => r.type === `azure-native:${t}`);
    expect(
      resources.every(
        (r) => typeof r.type === 'string' && typeof r.name === 'string' && typeof r.props === 'object',
      ),
    ).toBe(true);

    const lake = ofType('storage:StorageAccount').find((r) => p(r, 'isHnsEnabled') === true);
    expect(lake?.props).toMatchObject({
      minimumTlsVersion: 'TLS1_2',
      allowSharedKeyAccess: false,
      allowBlobPublicAccess: false,
      publicNetworkAccess: 'Disabled',
    });
    expect(p(lake, 'sku.name')).toMatch(/GRS/);
    expect(ofType('storage:BlobContainer').map((c) => p(c, 'containerName'))).toEqual(
      expect.arrayContaining(['bronze', 'silver', 'gold']),
    );
    const vault = ofType('keyvault:Vault')[0];
    expect(p(vault, 'properties')).toMatchObject({
      enablePurgeProtection: true,
      enableSoftDelete: true,
      enableRbacAuthorization: true,
    });
    expect(p(vault, 'properties.sku.name')).toBe('premium');
    expect(p(ofType('synapse:SqlPool')[0], 'sku.name')).toBe('DW1000c');
    expect(ofType('synapse:BigDataPool')[0]?.props).toMatchObject({
      nodeSizeFamily: 'MemoryOptimized',
      autoScale: { enabled: true, minNodeCount: 4, maxNodeCount: 16 },
    });
    const apps = ofType('web:WebApp');
    expect(apps).toHaveLength(4);
    for (const app of apps) expect(p(app, 'identity.type')).toMatch(/Assigned/);
    expect(ofType('network:PrivateEndpoint').length).toBeGreaterThanOrEqual(6);
    expect(p(ofType('operationalinsights:Workspace')[0], 'retentionInDays')).toBe(90);
    const alerts = [
      ...ofType('monitor:ScheduledQueryRule'),
      ...ofType('monitor:ActivityLogAlert'),
      ...ofType('monitor:MetricAlert'),
    ];
    expect(alerts).toHaveLength(47);
    expect(p(ofType('apimanagement:ApiPolicy')[0], 'value')).toContain('calls="1000"');
    // secrets never appear in the inventory
    for (const secret of ofType('keyvault:Secret')) expect(p(secret, 'properties.value')).toBe('[redacted]');
  });

  it('refuses an unknown stack', async () => {
    const run = await aurora(['infra', 'inventory', '--stack', 'qa'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--stack must be one of dev, staging, prod');
  });
});
