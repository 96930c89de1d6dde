export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** Relative to the row this group compares against (1 = the reference itself). */
  ratio?: number;
  note?: string;
}

export function printTable(rows: readonly BenchRow[]): string {
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2));
  const lines = ['| benchmark | result | ratio | note |', '|---|---:|---:|---|'];
  for (const r of rows)
    lines.push(
      `| ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`} | ${r.note ?? ''} |`,
    );
  return lines.join('\n');
}
