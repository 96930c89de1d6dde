import { cpus, totalmem } from 'node:os';
import { runLoad } from '../load/load.js';
import { benchApi } from './api.js';
import { benchErpCdc } from './erp-cdc.js';
import { benchHandlerAlone, benchIotPath } from './iot-path.js';
import { benchMedallion } from './medallion.js';
import { benchMesIngestion } from './mes-ingestion.js';
import { benchParquetLanding } from './parquet-landing.js';
import { benchPrivacy } from './privacy.js';
import { benchSapIngestion } from './sap-ingestion.js';
import { type BenchRow, printTable } from './table.js';

/**
 * `pnpm bench`: every benchmark, each beside its reference in the same run, printed as one Markdown table
 * (paste it into the README's Performance section). BENCH_ROWS / BENCH_MESSAGES / BENCH_ERP_CHANGES scale the runs;
 * BENCH_LOAD_MINUTES the short form of `pnpm load` (default 1).
 */
const rowsCount = Number(process.env['BENCH_ROWS'] ?? 200_000);
const messages = Number(process.env['BENCH_MESSAGES'] ?? 200_000);

const rows: BenchRow[] = [];
process.stderr.write(`parquet landing, ${rowsCount} rows...\n`);
rows.push(...(await benchParquetLanding(rowsCount)));
process.stderr.write(`telemetry handler alone, ${messages} messages...\n`);
rows.push(await benchHandlerAlone(messages));
process.stderr.write(`iot path, ${messages} messages, embedded broker...\n`);
rows.push(...(await benchIotPath(messages)));
if (process.env['AURORA_MQTT_URL']) {
  process.stderr.write(`iot path, ${messages} messages, ${process.env['AURORA_MQTT_URL']}...\n`);
  rows.push(...(await benchIotPath(messages, process.env['AURORA_MQTT_URL'])));
}
process.stderr.write('mes ingestion, 72 h first run per MES...\n');
rows.push(...(await benchMesIngestion()));
process.stderr.write('sap ingestion, 3-day first run over RFC...\n');
rows.push(...(await benchSapIngestion()));
const erpChanges = Number(process.env['BENCH_ERP_CHANGES'] ?? 1_000_000);
process.stderr.write(`erp increment, ${erpChanges} changed rows in one LogMiner window...\n`);
rows.push(...(await benchErpCdc(erpChanges)));
process.stderr.write('medallion, one plant-day at full scale (7.2 M readings + 24 h of the three MES)...\n');
rows.push(...(await benchMedallion()));
process.stderr.write('personal data: sealing at landing and GDPR requests...\n');
rows.push(...(await benchPrivacy()));
process.stderr.write('api, OEE endpoint at 64 connections beside a bare node:http server...\n');
rows.push(...(await benchApi()));
const loadMinutes = Number(process.env['BENCH_LOAD_MINUTES'] ?? 1);
process.stderr.write(
  `load (short form of pnpm load): IoT at 10x the plant for ${loadMinutes} min, API at 64 connections...\n`,
);
const load = await runLoad({ minutes: loadMinutes, progress: (line) => process.stderr.write(`  ${line}\n`) });
rows.push(...load.rows);
for (const p of load.problems) process.stderr.write(`  PROBLEM ${p}\n`);
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
process.stdout.write(
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}\n\n${printTable(rows)}\n`,
);
process.exit(0);
