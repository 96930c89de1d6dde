import { createHash } from 'node:crypto';
import { type Lake, SHA256_METADATA_KEY } from './lake.js';
import { parseBronzePath } from './layout.js';
import type { ParquetCodec } from './parquet.js';

export interface VerifyProblem {
  path: string;
  problem: string;
}

export interface VerifyReport {
  filesChecked: number;
  rowsChecked: number;
  problems: VerifyProblem[];
}

/**
 * Checks that every committed file under the prefixes is whole and readable: content matches the SHA-256
 * recorded at commit, Parquet footers and row groups read, row counts match what the writer declared, and
 * bronze files sit where the layout says they belong.
 */
export async function verifyLake(
  deps: { lake: Lake; codec: ParquetCodec },
  prefixes: readonly string[] = ['bronze/', 'silver/', 'gold/'],
  onFile?: (path: string) => void,
): Promise<VerifyReport> {
  const report: VerifyReport = { filesChecked: 0, rowsChecked: 0, problems: [] };
  const problem = (path: string, text: string) => report.problems.push({ path, problem: text });
  for (const prefix of prefixes) {
    for await (const file of deps.lake.list(prefix)) {
      onFile?.(file.path);
      report.filesChecked++;
      const bytes = await deps.lake.get(file.path);
      const expected = file.metadata[SHA256_METADATA_KEY];
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (!expected) problem(file.path, 'no sha256 recorded at commit: not written by Aurora');
      else if (expected !== actual)
        problem(
          file.path,
          `content changed since commit (sha256 ${actual.slice(0, 12)}…, recorded ${expected.slice(0, 12)}…)`,
        );
      const declaredRows = file.metadata['rows'] === undefined ? undefined : Number(file.metadata['rows']);
      let rows: number | undefined;
      try {
        if (file.path.endsWith('.parquet')) rows = await deps.codec.check(bytes);
        else if (file.path.endsWith('.jsonl')) {
          const lines = bytes
            .toString('utf8')
            .split('\n')
            .filter((l) => l.length > 0);
          for (const line of lines) JSON.parse(line);
          rows = lines.length;
        }
      } catch (error) {
        problem(file.path, `unreadable: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (rows !== undefined) {
        report.rowsChecked += rows;
        if (declaredRows !== undefined && declaredRows !== rows)
          problem(file.path, `declares ${declaredRows} rows, holds ${rows}`);
      }
      if (file.path.startsWith('bronze/') && !parseBronzePath(file.path))
        problem(file.path, 'does not follow the bronze layout');
    }
  }
  return report;
}
