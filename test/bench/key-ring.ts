import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, loadConfig } from '@aurora/core';
import { storageFromConnectionString } from '@aurora/lake';
import { type KeyRing, openPrivacy } from '@aurora/privacy';

/**
 * The privacy key ring landing seals personal data with, as the platform opens it: a local KEK in a
 * temporary home, the key table on the bench's Azurite. Benchmarks of landing pay for sealing as the
 * platform does.
 */
export async function benchKeyRing(
  connectionString: string,
  clock: Clock,
): Promise<{ ring: KeyRing; close(): Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), 'aurora-bench-keys-'));
  const { ring } = await openPrivacy(
    loadConfig({ AURORA_HOME: home }),
    storageFromConnectionString(connectionString),
    clock,
  );
  return { ring, close: () => rm(home, { recursive: true, force: true }) };
}
