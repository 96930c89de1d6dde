import { describe, expect, it } from 'vitest';
import {
  commitFileName,
  decodeAddPath,
  encodeAddPath,
  escapePartitionValue,
  parseLogFileName,
  serializePartitionValue,
} from './protocol.js';

describe('Delta protocol names and encodings', () => {
  it('names log files by zero-padded version and recognises only the log own files', () => {
    expect(commitFileName(7)).toBe('00000000000000000007.json');
    expect(parseLogFileName('00000000000000000010.checkpoint.parquet')).toEqual({
      kind: 'checkpoint',
      version: 10,
      part: 1,
      parts: 1,
    });
    expect(parseLogFileName('00000000000000000010.checkpoint.0000000002.0000000003.parquet')).toMatchObject({
      part: 2,
      parts: 3,
    });
    expect(parseLogFileName('_last_checkpoint')).toEqual({ kind: 'last-checkpoint' });
    expect(parseLogFileName('00000000000000000010.crc')).toBeUndefined();
  });

  it('escapes partition folders as Spark does and URL-encodes add paths reversibly', () => {
    expect(escapePartitionValue('2021-09-08 11:11:11')).toBe('2021-09-08 11%3A11%3A11');
    expect(escapePartitionValue('a/b=c%')).toBe('a%2Fb%3Dc%25');
    expect(escapePartitionValue(null)).toBe('__HIVE_DEFAULT_PARTITION__');
    const relative = 'as_timestamp=2021-09-08 11%3A11%3A11/part-00000-x.parquet';
    expect(encodeAddPath(relative)).toBe('as_timestamp=2021-09-08%2011%253A11%253A11/part-00000-x.parquet');
    expect(decodeAddPath(encodeAddPath(relative))).toBe(relative);
  });

  it('stores partition values as strings, timestamps as UTC ISO 8601, null as null', () => {
    expect(serializePartitionValue(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('2026-01-02T03:04:05.000Z');
    expect(serializePartitionValue(12n)).toBe('12');
    expect(serializePartitionValue(undefined)).toBeNull();
  });
});
