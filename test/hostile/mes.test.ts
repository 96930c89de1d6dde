import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { jsonText, ManualClock, silentLogger, staticSecrets } from '@aurora/core';
import {
  createBlobLake,
  createCheckpointStore,
  createTableClient,
  type Lake,
  ParquetCodec,
} from '@aurora/lake';
import {
  createHydraConnector,
  createRegensburgConnector,
  createSimaticConnector,
  HYDRA_MAX_TAGS,
  type MesCheckpoint,
  type MesConnector,
  type MesIngestionDeps,
  runMesIngestion,
} from '@aurora/sources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSentinel,
  type GoodBody,
  type HostileCase,
  hostileCorpus,
  prototypeState,
  type Sentinel,
  xmlText,
} from './corpus.js';
import {
  deadLetters,
  expectBoundedHeap,
  expectLakeLayout,
  expectPrototypeUntouched,
  expectSentinelUnread,
  type HeapUse,
  measureHeap,
  withDeadline,
} from './harness.js';

/**
 * MES responses: each connector (SIMATIC IT's OData JSON, HYDRA's MIP XML, Regensburg's JSON array) reads
 * from a loopback HTTP server that answers the production-order request with the hostile body, and
 * runMesIngestion lands it or dead-letters it. A good page holds two records, the hostile one and a plain
 * one, so that a field only one record has is seen next to a record without it.
 */

type Vendor = 'simatic-it' | 'hydra' | 'regensburg-mes';
const MARKER = 'HOSTILE-MARKER';
const FIELD = { 'simatic-it': 'Material', hydra: 'Material', 'regensburg-mes': 'material' } as const;

let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;
let sentinel: Sentinel;
let cases: HostileCase[];

beforeAll(async () => {
  azurite = await startAzurite();
  lake = createBlobLake({ connectionString: azurite.connectionString });
  codec = await ParquetCodec.create();
  sentinel = await createSentinel();
  cases = hostileCorpus({ sentinel: sentinel.path });
});
afterAll(async () => {
  codec?.close();
  await azurite?.close();
  await sentinel?.remove();
});

interface Answer {
  type: string;
  body: Buffer;
}

/** A loopback MES: production orders answer `hostile`, the other entities an empty page. */
async function startMes(vendor: Vendor): Promise<{ url: string; set(a: Answer): void; server: Server }> {
  let hostile = emptyAnswer(vendor, '');
  const send = (res: ServerResponse, a: Answer) => {
    res.writeHead(200, { 'content-type': a.type, 'content-length': a.body.byteLength });
    res.end(a.body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const path = req.url ?? '';
    if (vendor === 'simatic-it' && req.method === 'POST' && path.startsWith('/sit-auth/OAuth/Token')) {
      send(res, {
        type: 'application/json',
        body: Buffer.from('{"access_token":"t0k3n","expires_in":3600}'),
      });
      return;
    }
    const orders = /WorkOrder|BOOrder|productionOrders/.test(path);
    send(res, orders ? hostile : emptyAnswer(vendor, path));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    set: (a) => {
      hostile = a;
    },
    server,
  };
}

/** The vendor's page of two records (the hostile one carries the marker in its free-text field), as text. */
function goodPage(vendor: Vendor, key: string, modifiedAt: Date, extraField = ''): GoodBody {
  if (vendor === 'hydra') {
    const record = (no: string, material: string, extra = '') =>
      `<Record><OrderNo>${no}</OrderNo><OperationNo>0010</OperationNo><ModifiedAt>${modifiedAt.toISOString()}</ModifiedAt><Material>${material}</Material>${extra}</Record>`;
    return {
      syntax: 'xml',
      marker: MARKER,
      text: `<?xml version="1.0" encoding="UTF-8"?>\n<MipResponse service="BOOrder"><Records>${record(key, MARKER, extraField)}${record(`${key}-plain`, 'AUR-10011')}</Records><NextCursor></NextCursor></MipResponse>`,
    };
  }
  if (vendor === 'simatic-it') {
    const record = (id: string, material: string, extra = '') =>
      `{"Id":${JSON.stringify(id)},"LastUpdatedOn":"${modifiedAt.toISOString()}","Material":${material}${extra}}`;
    return {
      syntax: 'json',
      marker: MARKER,
      text: `{"@odata.context":"$metadata#WorkOrder","value":[${record(key, `"${MARKER}"`, extraField)},${record(`${key}-plain`, '"AUR-10011"')}]}`,
    };
  }
  const record = (no: string, material: string, extra = '') =>
    `{"auftragsnummer":${JSON.stringify(no)},"geaendert_am":${modifiedAt.getTime()},"material":${material}${extra}}`;
  return {
    syntax: 'json',
    marker: MARKER,
    text: `[${record(key, `"${MARKER}"`, extraField)},${record(`${key}-plain`, '"AUR-10011"')}]`,
  };
}

/** An empty page for the request at `path` (HYDRA names the service it answers for). */
const emptyAnswer = (vendor: Vendor, path: string): Answer =>
  vendor === 'hydra'
    ? {
        type: 'application/xml',
        body: Buffer.from(
          `<MipResponse service="${/services\/(\w+)/.exec(path)?.[1] ?? ''}"><Records/></MipResponse>`,
        ),
      }
    : { type: 'application/json', body: Buffer.from(vendor === 'simatic-it' ? '{"value":[]}' : '[]') };

/** The body a case makes for a vendor, and what must become of it. */
function bodyOf(vendor: Vendor, c: HostileCase, key: string, at: Date): { body: Buffer; lands: boolean } {
  const json = vendor !== 'hydra';
  if (c.form === 'body') {
    // A byte order mark is stripped, as the WHATWG decoder does; an entity reference is only text in
    // JSON; everything else is not a page.
    const lands = c.id === 'malformed/utf8-bom' || (json && c.id === 'xml-entities/undefined-entity');
    return { body: c.bytes(goodPage(vendor, key, at)), lands };
  }
  if (c.form === 'key') {
    const name = c.key(FIELD[vendor]);
    if (!json) {
      const value = xmlText(JSON.parse(c.json) === null ? '' : jsonText(JSON.parse(c.json))!);
      const extra = `<${name}>${value}</${name}>`;
      // XML has no element without a name or with a NUL in it; the parser refuses the names that reach
      // an object's prototype.
      const lands = !['', 'note\u0000x', '__proto__', 'constructor'].includes(name);
      return { body: Buffer.from(goodPage(vendor, key, at, extra).text), lands };
    }
    const extra = `,${JSON.stringify(name)}:${c.json}`;
    return { body: Buffer.from(goodPage(vendor, key, at, extra).text), lands: true };
  }
  const good = goodPage(vendor, key, at);
  if (!json) {
    const text = c.xml ? c.xml() : xmlText(c.text());
    // XML cannot carry a NUL character, escaped or not; the parser stops at 100 levels of nesting, the
    // connector at HYDRA_MAX_TAGS tags (the full-size array has more).
    const tags = text.split('<').length - 1;
    const lands =
      !text.includes('\u0000') && c.id !== 'oversized/deep-nesting' && tags < HYDRA_MAX_TAGS - 100;
    return { body: Buffer.from(good.text.replace(MARKER, text)), lands };
  }
  const body = Buffer.from(good.text.replace(`"${MARKER}"`, c.json()));
  // NaN is not JSON; an unpaired surrogate cannot be stored as UTF-8 text without changing it.
  return { body, lands: !['wrong-type/nan', 'wrong-encoding/lone-surrogate'].includes(c.id) };
}

/** What the free-text field must hold after landing, where the case says exactly. */
function expectedText(vendor: Vendor, c: HostileCase): string | undefined {
  if (c.form !== 'value') return undefined;
  if (vendor === 'hydra') {
    if (c.xml) return undefined;
    // What the wire carried: text as UTF-8 (an unpaired surrogate already became U+FFFD on the way).
    return Buffer.from(c.text()).toString('utf8');
  }
  const exact: Record<string, string> = {
    'wrong-type/two-to-the-64': '18446744073709551616',
    'wrong-type/beyond-double-precision': '9007199254740993',
    'wrong-type/infinity': '1e999',
  };
  if (exact[c.id] !== undefined) return exact[c.id];
  const value = c.value();
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return jsonText(value);
  return undefined;
}

function connectorFor(vendor: Vendor, url: string, clock: ManualClock): MesConnector {
  const timeoutMs = 30_000;
  if (vendor === 'simatic-it')
    return createSimaticConnector({
      baseUrl: url,
      secrets: staticSecrets({ 'mes-simatic-client-secret': 'client-secret-1' }),
      clock,
      grant: 'client_credentials',
      clientId: 'aurora',
      timeoutMs,
    });
  if (vendor === 'hydra')
    return createHydraConnector({
      baseUrl: url,
      secrets: staticSecrets({ 'mes-hydra-api-key': 'hydra-key-1' }),
      clock,
      accessId: '12345678',
      timeoutMs,
    });
  return createRegensburgConnector({
    baseUrl: url,
    secrets: staticSecrets({ 'mes-regensburg-password': 'regensburg-password-1' }),
    clock,
    username: 'aurora',
    timeoutMs,
  });
}

const VENDORS: Vendor[] = ['simatic-it', 'hydra', 'regensburg-mes'];

describe.each(VENDORS)('hostile %s responses into runMesIngestion', (vendor) => {
  it('lands each good page whole and dead-letters each bad one with its body; the window stays open', async () => {
    const before = prototypeState();
    const clock = new ManualClock('2026-11-23T06:00:00Z');
    const mes = await startMes(vendor);
    const connector = connectorFor(vendor, mes.url, clock);
    const checkpoints = createCheckpointStore(
      createTableClient(azurite.connectionString, `hostile${vendor.replaceAll('-', '')}`),
    );
    const deps: MesIngestionDeps = {
      lake,
      codec,
      checkpoints,
      clock,
      log: silentLogger,
      overlapMs: 300_000,
      initialLookbackMs: 3_600_000,
      retryDelaysMs: [1],
      sleep: async () => undefined,
    };
    const source = connector.facilityId;
    let served = 0;
    let landed = 0;
    let deadLettered = 0;
    try {
      for (const [i, c] of cases.entries()) {
        clock.advance(15 * 60_000);
        const key = `WO-${String(i).padStart(3, '0')}`;
        const { body, lands } = bodyOf(vendor, c, key, new Date(clock.now().getTime() - 60_000));
        mes.set({ type: vendor === 'hydra' ? 'application/xml' : 'application/json', body });
        const watermark = (await checkpoints.load<MesCheckpoint>(`mes-${source}`, 'production_orders'))?.value
          .watermark;
        const run = () => withDeadline(`${vendor} ${c.id}`, () => runMesIngestion(deps, connector));
        let use: HeapUse<Awaited<ReturnType<typeof runMesIngestion>>> | undefined;
        let report: Awaited<ReturnType<typeof runMesIngestion>>;
        if (c.oversized) {
          use = await measureHeap(run);
          report = use.result;
          expectBoundedHeap(`${vendor} ${c.id}`, use, body.byteLength);
        } else report = await run();
        const orders = report.entities.find((e) => e.entity === 'production_orders')!;
        expect
          .soft(
            report.entities.filter((e) => e.entity !== 'production_orders').every((e) => e.ok),
            `${c.id}: the other entities carry on`,
          )
          .toBe(true);
        served++;
        if (lands) {
          expect.soft(orders, `${c.id} lands`).toMatchObject({ ok: true, landed: 2 });
          if (!orders.ok) continue;
          landed++;
          const rows = await codec.decode(await lake.get(orders.file!));
          const row = rows.find((r) => r['_record_key'] === (vendor === 'hydra' ? `${key}/0010` : key));
          expect.soft(row, `${c.id}: its record landed`).toBeDefined();
          const expected = expectedText(vendor, c);
          if (expected !== undefined && row)
            expect.soft(String(row[FIELD[vendor]]), `${c.id}: landed exactly as sent`).toBe(expected);
          if (c.form === 'key') {
            // The extra field is a column of its own (never the prototype), null in the record without it.
            const columns = await extraColumns(await lake.get(orders.file!));
            expect.soft(columns.length, `${c.id}: one column holds the extra field`).toBe(1);
            for (const { values } of columns)
              expect
                .soft(values, `${c.id}: the extra field's values`)
                .toEqual([
                  vendor === 'hydra'
                    ? xmlValue(c.json)
                    : JSON.parse(c.json) === null
                      ? null
                      : jsonValue(c.json),
                  null,
                ]);
          }
        } else {
          expect.soft(orders.ok, `${c.id} is refused`).toBe(false);
          if (orders.ok) continue;
          deadLettered++;
          expect.soft(orders.deadLetterFile, `${c.id}: dead-lettered`).toBeDefined();
          const letter = (await deadLetters(lake, `mes-${source}`)).find(
            (l) => l['batch_id'] === `mes-${source}-production_orders-${fileStamp(clock.now())}`,
          );
          expect.soft(letter?.['code'], c.id).toBe('mes.unreadable_response');
          const payload = letter?.['payload'];
          expect.soft(typeof payload, `${c.id}: the dead letter holds the body`).toBe('string');
          if (typeof payload === 'string' && body.byteLength > 0)
            expect.soft(payload.length, `${c.id}: the body is in the dead letter`).toBeGreaterThan(0);
          if (typeof payload === 'string' && isPlainUtf8(body) && body.byteLength <= 64 * 1024)
            expect.soft(payload, `${c.id}: the whole body is in the dead letter`).toBe(body.toString('utf8'));
          const after = await checkpoints.load<MesCheckpoint>(`mes-${source}`, 'production_orders');
          // The window stays open: the watermark stays (a first run pins where its window started).
          expect
            .soft(after?.value.watermark, `${c.id}: the window stays open`)
            .toBe(watermark ?? orders.window.from);
        }
      }
    } finally {
      await new Promise((resolve) => mes.server.close(resolve));
    }
    expect(landed + deadLettered).toBe(served);
    await expectLakeLayout(lake);
    await expectSentinelUnread(lake, codec, sentinel, [
      `bronze/mes/${source}/`,
      `bronze/_deadletter/mes-${source}/`,
    ]);
    expectPrototypeUntouched(before);
  });
});

const LINEAGE_COLUMNS = new Set([
  '_source',
  '_extracted_at',
  '_batch_id',
  '_record_key',
  '_modified_at',
  '_window_from',
  '_window_to',
]);
const GOOD_COLUMNS = new Set([
  'Id',
  'LastUpdatedOn',
  'Material',
  'OrderNo',
  'OperationNo',
  'ModifiedAt',
  'auftragsnummer',
  'geaendert_am',
  'material',
]);

/**
 * The columns of a landed file beyond the good page's and the lineage, with their values in record
 * order, read by name through DuckDB (a decoded row object cannot hold a `__proto__` key).
 */
async function extraColumns(bytes: Buffer): Promise<{ name: string; values: unknown[] }[]> {
  const dir = await mkdtemp(join(tmpdir(), 'aurora-hostile-mes-'));
  const file = join(dir, 'landed.parquet');
  try {
    await writeFile(file, bytes);
    const source = `read_parquet('${file}')`;
    const names = (await codec.query(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${source})`)).map((r) =>
      String(r['column_name']),
    );
    const extra = names.filter((n) => !GOOD_COLUMNS.has(n) && !LINEAGE_COLUMNS.has(n));
    const out: { name: string; values: unknown[] }[] = [];
    for (const name of extra) {
      const rows = await codec.query(
        `SELECT "${name.replaceAll('"', '""')}"::VARCHAR AS v FROM ${source} ORDER BY _record_key LIKE '%-plain%'`,
      );
      out.push({ name, values: rows.map((r) => r['v']) });
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A key case's value as a JSON MES lands it: a string as itself, structure as its JSON text. */
const jsonValue = (json: string): string => {
  const value: unknown = JSON.parse(json);
  return typeof value === 'string' ? value : jsonText(value)!;
};

/** A key case's value as the XML test page carries it: the JSON text, as element text. */
const xmlValue = (json: string): string => {
  const value: unknown = JSON.parse(json);
  return value === null ? '' : jsonText(value)!;
};

/** UTF-8 without a byte order mark: what a dead letter can hold byte for byte as text. */
function isPlainUtf8(bytes: Buffer): boolean {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const fileStamp = (at: Date) => at.toISOString().replace(/[-:.]/g, '').replace('Z', '000Z');
