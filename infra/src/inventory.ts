import * as pulumi from '@pulumi/pulumi';
import {
  DEPLOYMENT_KEYS,
  isStackName,
  loadStackConfig,
  PROJECT,
  STACK_NAMES,
  type StackName,
} from './config.js';
import { createAzureMocks } from './mocks.js';
import { readOpenApiDocument } from './openapi.js';
import { readStackFile } from './stack-file.js';

/** One declared Azure resource: Pulumi type, logical name and its resolved inputs. */
export interface InventoryEntry {
  type: string;
  name: string;
  props: Record<string, unknown>;
}

/**
 * Stand-ins for the deployment-specific keys that are not in the repo (README, "First deployment"). They
 * only make the offline inventory complete; a real deployment fails until the real values are set.
 */
export const OFFLINE_DEPLOYMENT_VALUES: Record<(typeof DEPLOYMENT_KEYS)[number], string> = {
  adminGroupObjectId: '00000000-0000-0000-0000-0000000ad319',
  adminGroupName: 'aurora-platform-admins (offline placeholder)',
  alertEmail: 'platform-oncall@example.invalid',
  apimPublisherEmail: 'api-publisher@example.invalid',
};

/** Sends console.log/info/debug to stderr while it runs: stdout belongs to the caller's JSON. */
async function withStdoutReserved<T>(run: () => Promise<T>): Promise<T> {
  const saved = { log: console.log, info: console.info, debug: console.debug };
  console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
  try {
    return await run();
  } finally {
    Object.assign(console, saved);
  }
}

/**
 * Runs the whole stack offline under Pulumi's mocks (no CLI, no engine, no Azure) with the configuration in
 * `Pulumi.<stack>.yaml`, and returns every Azure resource it declares with its resolved inputs, in
 * registration order. It waits until every registration has finished, so resources whose inputs depend on
 * other resources' outputs are included. Safe to call more than once per process, one call at a time.
 */
export async function buildInventory(stack: StackName): Promise<InventoryEntry[]> {
  if (!isStackName(stack))
    throw new Error(`unknown stack "${String(stack)}"; expected ${STACK_NAMES.join(', ')}`);
  const stackFile = await readStackFile(stack);
  const config: Record<string, string> = { ...stackFile.config };
  for (const key of DEPLOYMENT_KEYS) config[`${PROJECT}:${key}`] ??= OFFLINE_DEPLOYMENT_VALUES[key];

  return withStdoutReserved(async () => {
    const { mocks, resources } = createAzureMocks();
    await pulumi.runtime.setMocks(mocks, PROJECT, stack, false);
    pulumi.runtime.setAllConfig(config, stackFile.secureKeys);
    // The program's modules load after setMocks, so that none of them meets the runtime before the mocks.
    const { createPlatform } = await import('./platform.js');
    createPlatform(loadStackConfig(), readOpenApiDocument().text);
    // disconnect() waits for every outstanding registration (the RPC queue drains) before returning.
    await pulumi.runtime.disconnect();
    return resources.map((r) => ({ type: r.type, name: r.name, props: r.props }));
  });
}
