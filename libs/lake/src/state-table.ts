import type { TableClient } from '@azure/data-tables';

/**
 * Creates a state table on first use, once per client; a failed creation is tried again on the next call.
 * (`createTable` already succeeds when the table exists.)
 */
export function lazyTable(client: TableClient): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => {
    ready ??= client.createTable().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
}
