import { loadConfig } from '@aurora/core';
import { openLocalStorage } from './local-storage.js';

/** `pnpm azurite`: the local lake alone, on the usual ports, so Azure Storage Explorer can browse it. */
async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(
      'Usage: pnpm azurite\n\nRuns Azurite (blob, queue, table) on the data under $AURORA_HOME/azurite until Ctrl-C.\n' +
        'Ports: AURORA_AZURITE_BLOB_PORT (10000), AURORA_AZURITE_QUEUE_PORT (10001), AURORA_AZURITE_TABLE_PORT (10002).\n',
    );
    return;
  }
  const config = loadConfig();
  if (config.storage.kind !== 'azurite')
    throw new Error('AURORA_STORAGE_CONNECTION_STRING is set: there is no local emulator to run');
  const storage = await openLocalStorage(config.home, config.storage);
  if (!storage.owner) {
    process.stdout.write(`Azurite for ${config.home} is already running (blob ${storage.blobUrl}).\n`);
    return;
  }
  process.stdout.write(
    `Azurite running on ${config.home}/azurite\n  blob  ${storage.blobUrl}\n  queue ${storage.queueUrl}\n  table ${storage.tableUrl}\n` +
      'Connect Azure Storage Explorer with "Local storage emulator". Ctrl-C stops it.\n',
  );
  const stop = async () => {
    await storage.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`azurite: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
