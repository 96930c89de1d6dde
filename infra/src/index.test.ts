import * as pulumi from '@pulumi/pulumi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT } from './config.js';
import { OFFLINE_DEPLOYMENT_VALUES } from './inventory.js';
import { createAzureMocks } from './mocks.js';
import { readStackFile } from './stack-file.js';

const resolved = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((resolve) => output.apply(resolve));

/** The Pulumi program entry, run the way `pulumi up` would run it for the staging stack, under mocks. */
describe('index (the Pulumi program)', () => {
  let program: typeof import('./index.js');

  beforeAll(async () => {
    const { config } = await readStackFile('staging');
    for (const [key, value] of Object.entries(OFFLINE_DEPLOYMENT_VALUES)) config[`${PROJECT}:${key}`] = value;
    await pulumi.runtime.setMocks(createAzureMocks().mocks, PROJECT, 'staging', false);
    pulumi.runtime.setAllConfig(config);
    program = await import('./index.js');
  }, 30_000);

  afterAll(async () => {
    await pulumi.runtime.disconnect();
  });

  // Outputs resolve through the mocks' RPC queue: seconds on a busy 2-core machine, beyond vitest's 5 s default.
  it('reads the stack configuration and exports the outputs operators need', async () => {
    expect(await resolved(program.resourceGroupName)).toBe('rg-aurora-staging');
    expect(await resolved(program.lakeAccountName)).toMatch(/^aurorastaginglake[0-9a-f]{6}$/);
    expect(await resolved(program.keyVaultName)).toMatch(/^kv-aurora-staging-[0-9a-f]{6}$/);
    expect(await resolved(program.privacyKekId)).toMatch(
      /^https:\/\/kv-aurora-staging-[0-9a-f]{6}\.vault\.azure\.net\/keys\/aurora-pd-kek$/,
    );
    expect(await resolved(program.synapseSqlEndpoint)).toMatch(
      /^syn-aurora-staging-[0-9a-f]{6}\.sql\.azuresynapse\.net$/,
    );
    expect(await resolved(program.apiGatewayUrl)).toMatch(/^https:\/\/.+\.azure-api\.net$/);
    expect(program.alertRuleCount).toBe(47);
    expect(program.grafanaDashboardFiles).toEqual([
      'infra/dashboards/capacity.json',
      'infra/dashboards/data-freshness.json',
      'infra/dashboards/pipeline-health.json',
      'infra/dashboards/platform-costs.json',
    ]);
  }, 30_000);
});
