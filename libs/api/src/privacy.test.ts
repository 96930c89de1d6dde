import { describe, expect, it } from 'vitest';
import type { GoldReader } from './gold-reader.js';
import { goldReaderSearch, subjectIdSchema } from './privacy.js';
import type { Dialect, Statement } from './statement.js';

/** A reader of the given dialect that records the SQL it is asked to run. */
function recordingReader(dialect: Dialect): { reader: GoldReader; texts: string[] } {
  const texts: string[] = [];
  return {
    texts,
    reader: {
      dialect,
      query: async (statement: Statement) => {
        texts.push(statement.render(dialect).text);
        return [];
      },
      close: async () => {},
    },
  };
}

const CATALOGUE = `SELECT table_schema, table_name, column_name FROM information_schema.columns
         WHERE table_schema IN ('silver', 'gold') AND data_type = 'VARCHAR'`;

describe('goldReaderSearch', () => {
  it('runs Guardian SQL as written on DuckDB, where the warehouse holds silver and gold', async () => {
    const { reader, texts } = recordingReader('duckdb');
    await goldReaderSearch(reader).query(CATALOGUE);
    expect(texts).toEqual([CATALOGUE]);
  });

  it('asks Synapse for NVARCHAR columns too (the pool keeps text as NVARCHAR(4000))', async () => {
    const { reader, texts } = recordingReader('tsql');
    await goldReaderSearch(reader).query(CATALOGUE);
    expect(texts[0]).toContain("data_type IN ('varchar', 'nvarchar')");
    expect(texts[0]).not.toContain("data_type = 'VARCHAR'");
  });
});

describe('subjectIdSchema', () => {
  it('takes system ids of every kind the platform seals', () => {
    for (const id of ['erp-party:50012', 'sap-vendor:0000100003', 'sap-user:BUYER01', 'mes-operator:J.DOE_2'])
      expect(subjectIdSchema.safeParse(id).success, id).toBe(true);
  });

  it('refuses e-mail addresses, names, paths, quotes and oversized ids', () => {
    for (const id of [
      'anna@example.com',
      'erp-party:anna@example.com',
      'erp-party:Anna Müller',
      'erp-party:../../etc/passwd',
      'erp-party:.hidden',
      "erp-party:1'--",
      'ERP:1',
      'erp-party:',
      `erp-party:${'9'.repeat(201)}`,
    ])
      expect(subjectIdSchema.safeParse(id).success, id).toBe(false);
  });
});
