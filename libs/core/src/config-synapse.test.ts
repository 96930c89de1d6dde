import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';

describe('loadConfig: Synapse', () => {
  it('has no pool by default and rebuilds views beyond 30 % tracking rows', () => {
    expect(loadConfig({}).synapse).toEqual({ mvRebuildThreshold: 0.3 });
  });

  it('takes server and database together and derives the DFS endpoint from the blob URL', () => {
    const config = loadConfig({
      AURORA_SYNAPSE_SQL_SERVER: 'synw-aurora-prod.sql.azuresynapse.net',
      AURORA_SYNAPSE_SQL_DATABASE: 'gold',
      AURORA_SYNAPSE_MV_REBUILD_THRESHOLD: '0.5',
      AURORA_LAKE_BLOB_URL: 'https://staurora.blob.core.windows.net',
      AURORA_LAKE_TABLE_URL: 'https://staurora.table.core.windows.net',
    });
    expect(config.synapse).toEqual({
      pool: { server: 'synw-aurora-prod.sql.azuresynapse.net', database: 'gold' },
      lakeDfsUrl: 'https://staurora.dfs.core.windows.net',
      mvRebuildThreshold: 0.5,
    });
  });

  it('names the missing half of the pool settings', () => {
    expect(() => loadConfig({ AURORA_SYNAPSE_SQL_SERVER: 'synw.sql.azuresynapse.net' })).toThrow(
      /AURORA_SYNAPSE_SQL_DATABASE: required with AURORA_SYNAPSE_SQL_SERVER/,
    );
    expect(() => loadConfig({ AURORA_SYNAPSE_MV_REBUILD_THRESHOLD: '-1' })).toThrow(ConfigError);
  });
});
