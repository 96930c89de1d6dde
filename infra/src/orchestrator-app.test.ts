import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_PLAN, BUILT_IN_ROLES } from './access-plan.js';
import { buildInventory, type InventoryEntry } from './inventory.js';

/**
 * The orchestrator Function App as functions/orchestrator needs it: the settings its config and host.json
 * read, the Durable task hub's storage, the lake access the medallion needs, and the workspace identity
 * COPY INTO loads gold with.
 */
let prod: InventoryEntry[];
beforeAll(async () => {
  prod = await buildInventory('prod');
}, 60_000);

const app = (name: string) => prod.find((r) => r.type === 'azure-native:web:WebApp' && r.name === name)!;
const settingsOf = (name: string) =>
  Object.fromEntries(
    (
      (app(name).props['siteConfig'] as { appSettings: { name: string; value: string }[] }).appSettings ?? []
    ).map((s) => [s.name, s.value]),
  );
const grants = (principal: string) =>
  ACCESS_PLAN.filter((g) => g.principal === principal).map((g) => `${g.role} @ ${g.scope}`);

describe('the orchestrator Function App', () => {
  it('has the settings the orchestrator reads: task hub, pool, DFS endpoint, view rebuild threshold', () => {
    const settings = settingsOf('func-orchestrator');
    const hostJson = JSON.parse(
      readFileSync(new URL('../../functions/orchestrator/host.json', import.meta.url), 'utf8'),
    ) as { extensions: { durableTask: { hubName: string } } };
    expect(hostJson.extensions.durableTask.hubName).toBe('%AURORA_TASK_HUB%');
    expect(settings['AURORA_TASK_HUB']).toBe('medallionprod');
    expect(settings['AURORA_TASK_HUB']).toMatch(/^[A-Za-z][A-Za-z0-9]{2,44}$/);
    expect(settings['AURORA_SYNAPSE_SQL_SERVER']).toMatch(/\.sql\.azuresynapse\.net$/);
    expect(settings['AURORA_SYNAPSE_SQL_DATABASE']).toBe('gold');
    expect(settings['AURORA_LAKE_DFS_URL']).toMatch(/^https:\/\/[^/]+\.dfs\.core\.windows\.net\/?$/);
    expect(settings['AURORA_SYNAPSE_MV_REBUILD_THRESHOLD']).toBe('0.3');
    // The Durable task hub lives in the identity-only host storage account.
    expect(settings['AzureWebJobsStorage__credential']).toBe('managedidentity');
    expect(settings).not.toHaveProperty('AzureWebJobsStorage');
    // Only the orchestrator runs the medallion.
    for (const other of ['func-ingest', 'func-sap', 'func-api']) {
      expect(settingsOf(other)).not.toHaveProperty('AURORA_TASK_HUB');
    }
  });

  it('may run the Durable task hub and the medallion, and nothing more on the lake', () => {
    expect(grants('orchestrator')).toEqual(
      expect.arrayContaining([
        'Storage Blob Data Owner @ host',
        'Storage Queue Data Contributor @ host',
        'Storage Table Data Contributor @ host',
        'Storage Blob Data Reader @ lake:bronze',
        'Storage Blob Data Contributor @ lake:silver',
        'Storage Blob Data Contributor @ lake:gold',
        'Storage Table Data Contributor @ lake:tables',
      ]),
    );
    expect(grants('orchestrator').filter((g) => g.includes('@ lake:bronze'))).toEqual([
      'Storage Blob Data Reader @ lake:bronze',
    ]);
    expect(grants('orchestrator').some((g) => g.endsWith('@ lake'))).toBe(false);
  });

  it('lets the Synapse workspace identity read the gold files COPY INTO loads', () => {
    expect(grants('synapse')).toContain('Storage Blob Data Contributor @ lake');
    const roleIds = prod
      .filter((r) => r.type === 'azure-native:authorization:RoleAssignment')
      .map((r) => String(r.props['roleDefinitionId']));
    expect(roleIds.some((id) => id.endsWith(BUILT_IN_ROLES['Storage Blob Data Contributor']))).toBe(true);
  });
});
