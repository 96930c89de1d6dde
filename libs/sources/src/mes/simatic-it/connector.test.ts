import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ManualClock,
  type SecretProvider,
  SourceDataError,
  SourceUnavailableError,
  staticSecrets,
} from '@aurora/core';
import { type MesStandIn, startSimaticStandIn } from '@aurora/plant';
import { afterEach, describe, expect, it } from 'vitest';
import type { MesPage, MesWindow } from '../connector.js';
import { bronzeRows } from '../run-mes-ingestion.js';
import { simaticConnectorFixture } from './connector.fixture.js';
import { createSimaticConnector, type SimaticConnectorOptions } from './connector.js';

const CREDENTIALS = {
  clientId: 'aurora-test',
  clientSecret: 'client:secret+/=',
  username: 'AUG\\svc-aurora',
  password: 'p@ss word&=',
};
const WINDOW: MesWindow = {
  from: new Date('2026-11-23T08:00:00.000Z'),
  to: new Date('2026-11-23T08:15:00.000Z'),
};

let standIn: MesStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

/** A secret provider over the stand-in's credentials that counts reads (one pair per token request). */
function countingSecrets(values: Record<string, string>) {
  const reads: string[] = [];
  const secrets: SecretProvider = {
    async get(name) {
      reads.push(name);
      const value = values[name];
      if (value === undefined) throw new Error(`no secret ${name}`);
      return value;
    },
  };
  return {
    secrets,
    values,
    tokenRequests: () => reads.filter((n) => n === 'mes-simatic-client-secret').length,
  };
}

async function setup(
  options: { tokenTtlS?: number; maxPageSize?: number } = {},
  connector: Partial<SimaticConnectorOptions> & { timeoutMs?: number; pageSize?: number } = {},
) {
  const clock = new ManualClock('2026-11-23T09:00:00Z');
  standIn = await startSimaticStandIn({
    data: simaticConnectorFixture(),
    clock,
    credentials: CREDENTIALS,
    ...options,
  });
  const counted = countingSecrets({ ...standIn.credentials });
  const mes = createSimaticConnector({
    baseUrl: standIn.url,
    secrets: counted.secrets,
    clock,
    grant: 'password',
    clientId: CREDENTIALS.clientId,
    username: CREDENTIALS.username,
    timeoutMs: 2000,
    ...connector,
  });
  return { s: standIn, clock, mes, ...counted };
}

async function collect(pages: AsyncIterable<MesPage>): Promise<MesPage[]> {
  const out: MesPage[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

const keysOf = (pages: MesPage[]) => pages.flatMap((p) => p.records.map((r) => r.fields['NId']));

async function failure(promise: Promise<unknown>): Promise<Error & { details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { details?: Record<string, unknown> };
  }
  throw new Error('expected a failure');
}

describe('createSimaticConnector', () => {
  it('reads the orders of [from, to) with the password grant, keeping the vendor fields', async () => {
    const { mes, s } = await setup();
    const pages = await collect(mes.fetch('production_orders', WINDOW));
    expect(pages).toHaveLength(1);
    expect(keysOf(pages)).toEqual([
      'WO-AUG-M02-20261123-E01',
      'WO-AUG-M03-20261123-E01',
      'WO-AUG-M04-20261123-E01',
    ]);
    const first = pages[0]!.records[0]!;
    expect(first.key).toBe(first.fields['Id']);
    expect(first.key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first.modifiedAt.toISOString()).toBe('2026-11-23T08:00:00.000Z');
    expect(pages[0]!.records[2]!.modifiedAt.toISOString()).toBe('2026-11-23T08:14:59.999Z');
    expect(first.fields).toMatchObject({
      Status: '{"StatusNId":"Active"}',
      FinalMaterial: '{"NId":"AUR-10011","Revision":"A"}',
      Quantity: 500,
      ProducedQuantity: 120,
      ScrapQuantity: 3,
      ActualEndTime: null,
      Equipment: 'AUG-M02',
      LastUpdatedOn: '2026-11-23T08:00:00.000Z',
    });
    const request = new URL(pages[0]!.request.replace(/^GET /, ''));
    expect(request.pathname).toBe('/sit-svc/Application/AppU4DM/odata/WorkOrder');
    expect(request.searchParams.get('$filter')).toBe(
      'LastUpdatedOn ge 2026-11-23T08:00:00.000Z and LastUpdatedOn lt 2026-11-23T08:15:00.000Z',
    );
    expect(request.searchParams.get('$orderby')).toBe('LastUpdatedOn,Id');
    expect(s.stats.requests).toBe(1);
  });

  it('lands the QuantityPostings navigation as one bronze column of JSON array text: none, one or many', async () => {
    const { mes } = await setup();
    const records = (await collect(mes.fetch('production_orders', WINDOW))).flatMap((p) => p.records);
    const { schema, rows } = bronzeRows(records, {
      source: 'mes-augsburg',
      extractedAt: new Date('2026-11-23T08:15:00Z'),
      batchId: 'b1',
    });
    expect(schema.find((c) => c.name === 'QuantityPostings')).toEqual({
      name: 'QuantityPostings',
      type: 'VARCHAR',
    });
    const postings = rows.map(
      (r) => JSON.parse(r['QuantityPostings'] as string) as Record<string, unknown>[],
    );
    expect(postings.map((p) => p.length)).toEqual([8, 0, 1]);
    expect(rows[2]!['QuantityPostings']).toBe(
      '[{"PostedOn":"2026-11-23T08:14:59.999Z","ProducedQuantity":118,"GoodQuantity":117,"ScrapQuantity":1}]',
    );
    expect(postings[0]![0]).toEqual({
      PostedOn: '2026-11-23T06:15:00.000Z',
      ProducedQuantity: 15,
      GoodQuantity: 15,
      ScrapQuantity: 0,
    });
    // The postings add up to the work order's quantities.
    rows.forEach((row, i) => {
      const sum = (f: string) => postings[i]!.reduce((n, p) => n + (p[f] as number), 0);
      expect([sum('ProducedQuantity'), sum('GoodQuantity'), sum('ScrapQuantity')]).toEqual([
        row['ProducedQuantity'],
        row['GoodQuantity'],
        row['ScrapQuantity'],
      ]);
    });
  });

  it('reads with the client-credentials grant and the client in the form', async () => {
    const { mes, secrets } = await setup();
    const viaForm = createSimaticConnector({
      baseUrl: standIn!.url,
      secrets,
      clock: new ManualClock('2026-11-23T09:00:00Z'),
      grant: 'client_credentials',
      clientId: CREDENTIALS.clientId,
      clientAuth: 'form',
    });
    expect(keysOf(await collect(viaForm.fetch('production_orders', WINDOW)))).toHaveLength(3);
    expect(keysOf(await collect(mes.fetch('production_orders', WINDOW)))).toHaveLength(3);
  });

  it('fails with SourceUnavailableError naming the password secret, without the secret, for a wrong password', async () => {
    const { mes, values } = await setup();
    values['mes-simatic-password'] = 'wrong password';
    const error = await failure(collect(mes.fetch('production_orders', WINDOW)));
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toContain('mes-simatic-password');
    expect(error.details).toMatchObject({ status: 400, oauthError: 'invalid_grant' });
    expect(JSON.stringify({ ...error.details, message: error.message })).not.toContain('wrong password');
    // The secret is read again on the next use: the rotated value works without a restart.
    values['mes-simatic-password'] = CREDENTIALS.password;
    expect(keysOf(await collect(mes.fetch('production_orders', WINDOW)))).toHaveLength(3);
  });

  it('fails with SourceUnavailableError naming the client secret for a wrong client secret', async () => {
    const { mes, values } = await setup({}, { clientAuth: 'form' });
    values['mes-simatic-client-secret'] = 'nope';
    const error = await failure(collect(mes.fetch('production_orders', WINDOW)));
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toContain('mes-simatic-client-secret');
    expect(error.details).toMatchObject({ status: 401, oauthError: 'invalid_client' });
  });

  it('follows @odata.nextLink to the end with one token for all pages', async () => {
    const { mes, s, tokenRequests } = await setup({ maxPageSize: 2 }, { pageSize: 100 });
    const pages = await collect(mes.fetch('machine_states', WINDOW));
    expect(pages.map((p) => p.records.length)).toEqual([2, 2, 2, 1]);
    const skips = pages.map((p) => new URL(p.request.slice(4)).searchParams.get('$skip'));
    expect(skips).toEqual([null, '2', '4', '6']);
    const modified = pages.flatMap((p) => p.records.map((r) => r.modifiedAt.getTime()));
    expect(modified).toEqual([...modified].sort((a, b) => a - b));
    expect(new Set(pages.flatMap((p) => p.records.map((r) => r.key))).size).toBe(7);
    expect(pages[0]!.records[1]!.fields).toMatchObject({
      State: 'DOWN',
      ReasonCode: 'F-JAM',
      SpeedFactor: null,
    });
    expect(tokenRequests()).toBe(1);
    expect(s.stats.requests).toBe(4);
  });

  it('asks for its page size with Prefer odata.maxpagesize, which the server honours below its cap', async () => {
    const { mes } = await setup({ maxPageSize: 500 }, { pageSize: 3 });
    const pages = await collect(mes.fetch('machine_states', WINDOW));
    expect(pages.map((p) => p.records.length)).toEqual([3, 3, 1]);
  });

  it('matches the total the server counts with $count=true', async () => {
    const { mes, s } = await setup({ maxPageSize: 2 });
    const token = await (
      await fetch(`${s.url}/sit-auth/OAuth/Token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: CREDENTIALS.clientId,
          client_secret: CREDENTIALS.clientSecret,
        }),
      })
    ).json();
    const filter = `LastUpdatedOn ge ${WINDOW.from.toISOString()} and LastUpdatedOn lt ${WINDOW.to.toISOString()}`;
    const counted = (await (
      await fetch(
        `${s.url}/sit-svc/Application/AppU4DM/odata/EquipmentState?${new URLSearchParams({ $filter: filter, $count: 'true' })}`,
        { headers: { Authorization: `Bearer ${(token as { access_token: string }).access_token}` } },
      )
    ).json()) as { '@odata.count': number };
    const records = (await collect(mes.fetch('machine_states', WINDOW))).flatMap((p) => p.records);
    expect(records).toHaveLength(counted['@odata.count']);
    expect(counted['@odata.count']).toBe(7);
  });

  it('renews the token once the clock passes expires_in minus a minute, and not before', async () => {
    const { mes, clock, tokenRequests } = await setup({ tokenTtlS: 120 });
    await collect(mes.fetch('production_orders', WINDOW));
    clock.advance(59_000);
    await collect(mes.fetch('production_orders', WINDOW));
    expect(tokenRequests()).toBe(1);
    clock.advance(62_000);
    expect(keysOf(await collect(mes.fetch('production_orders', WINDOW)))).toHaveLength(3);
    expect(tokenRequests()).toBe(2);
  });

  it('gets a new token when the server expired the old one early (401) and retries once', async () => {
    const serverClock = new ManualClock('2026-11-23T09:00:00Z');
    standIn = await startSimaticStandIn({
      data: simaticConnectorFixture(),
      clock: serverClock,
      credentials: CREDENTIALS,
      tokenTtlS: 600,
    });
    const { secrets, tokenRequests } = countingSecrets({ ...standIn.credentials });
    const mes = createSimaticConnector({
      baseUrl: standIn.url,
      secrets,
      clock: new ManualClock('2026-11-23T09:00:00Z'),
      grant: 'password',
      clientId: CREDENTIALS.clientId,
      username: CREDENTIALS.username,
    });
    await collect(mes.fetch('production_orders', WINDOW));
    serverClock.advance(601_000);
    expect(keysOf(await collect(mes.fetch('production_orders', WINDOW)))).toHaveLength(3);
    expect(tokenRequests()).toBe(2);
    expect(standIn.stats.requests).toBe(3);
  });

  it('refreshes the token once on a 401 in the middle of a listing and completes it', async () => {
    const { mes, s, tokenRequests } = await setup({ maxPageSize: 3 });
    const pages: MesPage[] = [];
    for await (const page of mes.fetch('machine_states', WINDOW)) {
      pages.push(page);
      if (pages.length === 1) s.faults.inject({ fault: 'unauthorized', times: 1 });
    }
    expect(pages.map((p) => p.records.length)).toEqual([3, 3, 1]);
    expect(tokenRequests()).toBe(2);
    expect(s.stats.requests).toBe(4);
  });

  it('fails with SourceUnavailableError telling to check the credentials when a fresh token is refused too', async () => {
    const { mes, s, tokenRequests } = await setup();
    s.faults.inject({ fault: 'unauthorized' });
    const error = await failure(collect(mes.fetch('production_orders', WINDOW)));
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toContain('check the credentials');
    expect(error.details).toMatchObject({ status: 401 });
    expect(String(error.details?.['request'])).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/sit-svc\//);
    expect(tokenRequests()).toBe(2);
    expect(s.stats.requests).toBe(2);
  });

  it('maps a 500 with the OData error body to SourceUnavailableError', async () => {
    const { mes, s } = await setup();
    s.faults.inject({ fault: 'http_500', entity: 'production_orders', times: 1 });
    const error = await failure(collect(mes.fetch('production_orders', WINDOW)));
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toContain('500');
    expect(error.message).toContain('unexpected error');
    expect(error.details).toMatchObject({ status: 500 });
    expect(keysOf(await collect(mes.fetch('production_orders', WINDOW)))).toHaveLength(3);
  });

  it('maps an unanswered request to SourceUnavailableError after its timeout', async () => {
    const { mes, s } = await setup({}, { timeoutMs: 300 });
    s.faults.inject({ fault: 'timeout', times: 1 });
    const started = Date.now();
    const error = await failure(collect(mes.fetch('production_orders', WINDOW)));
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toContain('300 ms');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('waits for a slow answer within its timeout and gives up beyond it', async () => {
    const { mes, s } = await setup({}, { timeoutMs: 300 });
    s.faults.inject({ fault: 'slow', delayMs: 50, times: 1 });
    expect(keysOf(await collect(mes.fetch('production_orders', WINDOW)))).toHaveLength(3);
    s.faults.inject({ fault: 'slow', delayMs: 600, times: 1 });
    expect(await failure(collect(mes.fetch('production_orders', WINDOW)))).toBeInstanceOf(
      SourceUnavailableError,
    );
  });

  it('maps a body cut off halfway to SourceDataError with the part it read', async () => {
    const { mes, s } = await setup();
    s.faults.inject({ fault: 'truncated', times: 1 });
    const error = await failure(collect(mes.fetch('production_orders', WINDOW)));
    expect(error).toBeInstanceOf(SourceDataError);
    expect(error.details).toMatchObject({ status: 200 });
    expect(String(error.details?.['body'])).toMatch(/^\{"@odata\.context"/);
  });

  it('maps a syntactically broken body to SourceDataError with the body', async () => {
    const { mes, s } = await setup();
    s.faults.inject({ fault: 'malformed', times: 1 });
    const error = await failure(collect(mes.fetch('production_orders', WINDOW)));
    expect(error).toBeInstanceOf(SourceDataError);
    expect(String(error.details?.['body'])).toContain('"value":[{,');
  });

  it('refuses a body that is not UTF-8 rather than landing U+FFFD, reads one behind a byte order mark, and keeps big ids exact', async () => {
    let page = Buffer.alloc(0);
    const server = createServer((req, res) => {
      req.resume();
      const token = req.url?.startsWith('/sit-auth/');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(token ? '{"access_token":"t","expires_in":3600}' : page);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const mes = createSimaticConnector({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      secrets: staticSecrets({ 'mes-simatic-client-secret': 's3cret' }),
      clock: new ManualClock('2026-11-23T09:00:00Z'),
      grant: 'client_credentials',
      clientId: 'aurora',
    });
    const record = (material: string) =>
      `{"value":[{"Id":18446744073709551617,"LastUpdatedOn":"2026-11-23T08:01:00Z","Material":"${material}"}]}`;
    try {
      page = Buffer.from(record('M\u00fcller'), 'latin1');
      const error = await failure(collect(mes.fetch('production_orders', WINDOW)));
      expect(error).toBeInstanceOf(SourceDataError);
      expect(error.message).toBe(
        'SIMATIC IT answered with a body that is not UTF-8: it cannot be read as sent',
      );
      expect(String(error.details?.['body'])).toContain('"Material":"M\u00fcller"');

      page = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(record('Müller'))]);
      const [read] = await collect(mes.fetch('production_orders', WINDOW));
      expect(read!.records[0]).toMatchObject({ key: '18446744073709551617', fields: { Material: 'Müller' } });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('yields a repeated page again (the runner deduplicates) and then goes on to the end', async () => {
    const { mes, s } = await setup({ maxPageSize: 3 });
    s.faults.inject({ fault: 'repeat_page', times: 1 });
    const pages = await collect(mes.fetch('machine_states', WINDOW));
    expect(pages.map((p) => p.records.length)).toEqual([3, 3, 3, 1]);
    expect(pages[1]!.records.map((r) => r.key)).toEqual(pages[0]!.records.map((r) => r.key));
    expect(new Set(pages.flatMap((p) => p.records.map((r) => r.key))).size).toBe(7);
  });

  it('stops a paging loop with SourceDataError once a page is linked a fourth time', async () => {
    const { mes, s } = await setup({ maxPageSize: 3 });
    s.faults.inject({ fault: 'repeat_page' });
    const pages: MesPage[] = [];
    const error = await failure(
      (async () => {
        for await (const page of mes.fetch('machine_states', WINDOW)) pages.push(page);
      })(),
    );
    expect(error).toBeInstanceOf(SourceDataError);
    expect(error.message).toContain('paging loops');
    expect(pages).toHaveLength(3);
    expect(s.stats.requests).toBe(3);
  });

  it('keeps a field it has never seen', async () => {
    const { mes, s } = await setup();
    s.faults.inject({ fault: 'new_field', times: 1 });
    const records = (await collect(mes.fetch('production_orders', WINDOW))).flatMap((p) => p.records);
    expect(records).toHaveLength(3);
    expect(records.map((r) => r.fields['CustomAttribute1'])).toEqual([
      'AUG-EXT-01',
      'AUG-EXT-01',
      'AUG-EXT-01',
    ]);
    expect(records[0]!.fields['NId']).toBe('WO-AUG-M02-20261123-E01');
  });

  it('refuses an @odata.nextLink to another origin and never sends the token there', async () => {
    const { s } = await setup({ maxPageSize: 2 });
    // Reached as localhost, the stand-in links its pages on 127.0.0.1: another origin.
    const { secrets } = countingSecrets({ ...s.credentials });
    const mes = createSimaticConnector({
      baseUrl: s.url.replace('127.0.0.1', 'localhost'),
      secrets,
      clock: new ManualClock('2026-11-23T09:00:00Z'),
      grant: 'password',
      clientId: CREDENTIALS.clientId,
      username: CREDENTIALS.username,
    });
    const pages: MesPage[] = [];
    const error = await failure(
      (async () => {
        for await (const page of mes.fetch('machine_states', WINDOW)) pages.push(page);
      })(),
    );
    expect(error).toBeInstanceOf(SourceDataError);
    expect(error.message).toContain('another origin');
    expect(pages).toHaveLength(1);
    expect(s.stats.requests).toBe(1);
  });

  it('maps an unknown entity set (404) to SourceDataError naming the entity set to check', async () => {
    const { mes } = await setup({}, { entities: { machine_states: 'Equipment' } });
    const error = await failure(collect(mes.fetch('machine_states', WINDOW)));
    expect(error).toBeInstanceOf(SourceDataError);
    expect(error.details).toMatchObject({ status: 404 });
    expect(error.message).toContain('entity set');
  });

  it('rethrows the caller’s abort as is', async () => {
    const { mes, s } = await setup({}, { timeoutMs: 5000 });
    s.faults.inject({ fault: 'timeout', times: 1 });
    const controller = new AbortController();
    const pending = failure(collect(mes.fetch('production_orders', WINDOW, { signal: controller.signal })));
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    const error = await pending;
    expect(error).not.toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toBe('shutting down');
  });

  it('delivers the same records for the same data and clock', async () => {
    const { mes } = await setup({ maxPageSize: 2 });
    const a = (await collect(mes.fetch('machine_states', WINDOW))).flatMap((p) => p.records);
    const b = (await collect(mes.fetch('machine_states', WINDOW))).flatMap((p) => p.records);
    expect(b).toEqual(a);
  });
});
