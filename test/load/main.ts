import { cpus, loadavg, totalmem } from 'node:os';
import { printTable } from '../bench/table.js';
import { runLoad } from './load.js';

/**
 * `pnpm load`: IoT at 10x the plant's rate for 10 minutes through the local platform, the API under 64
 * connections at the same time; freshness and memory measured. LOAD_MINUTES shortens (or lengthens) it,
 * LOAD_FACTOR changes the multiple. Prints one Markdown table like `pnpm bench`; exit 1 when messages were
 * lost, API requests failed or the backlog did not drain.
 */
const minutes = Number(process.env['LOAD_MINUTES'] ?? 10);
const factor = Number(process.env['LOAD_FACTOR'] ?? 10);
if (!(minutes > 0) || !(factor > 0)) {
  process.stderr.write(
    `LOAD_MINUTES and LOAD_FACTOR must be positive numbers (got ${process.env['LOAD_MINUTES']}, ${process.env['LOAD_FACTOR']})\n`,
  );
  process.exit(2);
}
process.stderr.write(
  `load: IoT at ${factor}x the plant's rate for ${minutes} min, API at 64 connections...\n`,
);
const { rows, problems } = await runLoad({
  minutes,
  factor,
  progress: (line) => process.stderr.write(`${line}\n`),
});
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
process.stdout.write(
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; load average at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n\n${printTable(rows)}\n`,
);
for (const p of problems) process.stdout.write(`PROBLEM ${p}\n`);
process.exit(problems.length > 0 ? 1 : 0);
