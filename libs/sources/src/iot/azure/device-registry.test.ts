import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent } from 'node:https';
import { connect, type Socket } from 'node:net';
import { ConfigError, SourceUnavailableError, UsageError } from '@aurora/core';
import { catalogue } from '@aurora/plant';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { desiredDevices, planDeviceSync, planIsEmpty } from './device-plan.js';
import {
  applyDeviceSync,
  type HubTokenCredential,
  hubHost,
  listHubDevices,
  openHubRegistry,
  toHubError,
} from './device-registry.js';

/*
 * The real azure-iothub Registry, talking HTTP to a loopback server that answers like IoT Hub's
 * service API (api-version 2021-04-12). azure-iothub has no pluggable HTTP client, so the seam is the
 * HTTPS agent: it hands the SDK's https.request a plain TCP socket to the fake hub. Everything above the
 * socket - request building, SAS signing, JSON parsing, error translation - is the SDK's own.
 */

const HOST = 'iot-aurora-test.azure-devices.net';
const CONNECTION_STRING = `HostName=${HOST};SharedAccessKeyName=registryReadWrite;SharedAccessKey=${Buffer.from('not-a-real-key-0123456789abcdef').toString('base64')}`;
const API = '?api-version=2021-04-12';

class LoopbackAgent extends Agent {
  constructor(private readonly port: number) {
    super({ keepAlive: true });
  }
  // The SDK asks for TLS to the hub; the fake hub speaks plain HTTP on loopback.
  override createConnection(): Socket {
    return connect(this.port, '127.0.0.1');
  }
}

interface StoredDevice {
  deviceId: string;
  generationId: string;
  etag: string;
  twinEtag: string;
  status: string;
  capabilities: { iotEdge: boolean };
  deviceScope?: string;
  parentScopes?: string[];
  tags: Record<string, unknown>;
  authentication: { type: string; symmetricKey: { primaryKey: string; secondaryKey: string } };
}

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

class FakeIotHub {
  readonly devices = new Map<string, StoredDevice>();
  readonly requests: Recorded[] = [];
  /** Answer the next n requests with 429, as a throttled hub does. */
  throttleNext = 0;
  /** The Authorization header the hub accepts must start with this. */
  acceptAuthorization = `SharedAccessSignature sr=${HOST}`;
  #server: Server | undefined;
  #counter = 0;
  port = 0;

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => {
        raw += c;
      });
      req.on('end', () => this.#handle(req, raw, res));
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  #next = () => String(++this.#counter);

  add(d: Partial<StoredDevice> & { deviceId: string }): StoredDevice {
    const generationId = `63800000000000${String(this.devices.size).padStart(4, '0')}`;
    const stored: StoredDevice = {
      generationId,
      etag: `dev-${this.#next()}`,
      twinEtag: `AAAAAAAAAA${this.#next()}=`,
      status: 'enabled',
      capabilities: { iotEdge: false },
      tags: {},
      authentication: {
        type: 'sas',
        symmetricKey: { primaryKey: `pk-${d.deviceId}`, secondaryKey: `sk-${d.deviceId}` },
      },
      ...d,
    };
    if (stored.capabilities.iotEdge && !d.deviceScope) {
      stored.deviceScope = `ms-azure-iot-edge://${d.deviceId}-${generationId}`;
    }
    this.devices.set(d.deviceId, stored);
    return stored;
  }

  twin(d: StoredDevice) {
    return {
      deviceId: d.deviceId,
      etag: d.twinEtag,
      deviceEtag: d.etag,
      status: d.status,
      connectionState: 'Disconnected',
      authenticationType: 'sas',
      capabilities: d.capabilities,
      ...(d.deviceScope ? { deviceScope: d.deviceScope, parentScopes: d.parentScopes ?? [] } : {}),
      version: 2,
      tags: d.tags,
      properties: { desired: { $version: 1 }, reported: { $version: 1 } },
    };
  }

  /** Returns once it has answered; the value is only there so each route can `return send(...)`. */
  #handle(req: IncomingMessage, raw: string, res: ServerResponse): unknown {
    const body = raw ? JSON.parse(raw) : undefined;
    const url = req.url ?? '';
    this.requests.push({ method: req.method ?? '', path: url, headers: req.headers, body });
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    const error = (status: number, code: string) =>
      send(status, { Message: `ErrorCode:${code};${code} happened`, ExceptionMessage: '' });
    if (!url.endsWith(API)) return error(400, 'InvalidProtocolVersion');
    if (!String(req.headers.authorization ?? '').startsWith(this.acceptAuthorization)) {
      return error(401, 'IotHubUnauthorizedAccess');
    }
    if (this.throttleNext > 0) {
      this.throttleNext--;
      return error(429, 'ThrottlingException');
    }
    const path = url.slice(0, -API.length);
    const device = /^\/devices\/([^/]+)$/.exec(path);
    const twin = /^\/twins\/([^/]+)$/.exec(path);
    if (req.method === 'POST' && path === '/devices/query') {
      if (body?.query !== 'SELECT * FROM devices') return error(400, 'BadRequest');
      const all = [...this.devices.values()].map((d) => this.twin(d));
      const start = Number(req.headers['x-ms-continuation'] ?? 0);
      const size = Number(req.headers['x-ms-max-item-count'] ?? 100);
      const page = all.slice(start, start + size);
      const more = start + size < all.length;
      return send(200, page, more ? { 'x-ms-continuation': String(start + size) } : {});
    }
    if (req.method === 'POST' && path === '/devices') {
      const errors: { deviceId: string; errorCode: string; errorStatus: string }[] = [];
      for (const entry of body as Record<string, unknown>[]) {
        const id = String(entry['id']);
        if (entry['importMode'] === 'create') {
          if (this.devices.has(id)) {
            errors.push({ deviceId: id, errorCode: 'DeviceAlreadyExists', errorStatus: `${id} exists` });
            continue;
          }
          const scope = entry['deviceScope'] as string | undefined;
          this.add({
            deviceId: id,
            status: String(entry['status'] ?? 'enabled'),
            capabilities: { iotEdge: (entry['capabilities'] as { iotEdge?: boolean })?.iotEdge === true },
            tags: (entry['tags'] as Record<string, unknown>) ?? {},
            ...(scope ? { deviceScope: scope, parentScopes: entry['parentScopes'] as string[] } : {}),
          });
        } else if (entry['importMode'] === 'Delete') {
          this.devices.delete(id);
        } else return error(400, 'InvalidImportMode');
      }
      return send(errors.length ? 400 : 200, { isSuccessful: errors.length === 0, errors, warnings: [] });
    }
    if (device) {
      const id = decodeURIComponent(device[1] ?? '');
      const stored = this.devices.get(id);
      if (!stored) return error(404, 'DeviceNotFound');
      if (req.method === 'GET') {
        const { twinEtag: _t, tags: _tags, ...identity } = stored;
        return send(200, identity);
      }
      if (req.method === 'PUT') {
        Object.assign(stored, {
          capabilities: body.capabilities,
          deviceScope: body.deviceScope,
          parentScopes: body.parentScopes,
          authentication: body.authentication,
          etag: `dev-${this.#next()}`,
        });
        return send(200, stored);
      }
    }
    if (twin && req.method === 'PATCH') {
      const stored = this.devices.get(decodeURIComponent(twin[1] ?? ''));
      if (!stored) return error(404, 'DeviceNotFound');
      const ifMatch = req.headers['if-match'];
      if (ifMatch !== '"*"' && ifMatch !== `"${stored.twinEtag}"`) return error(412, 'PreconditionFailed');
      for (const [k, v] of Object.entries(body.tags ?? {})) {
        if (v === null) delete stored.tags[k];
        else stored.tags[k] = v;
      }
      stored.twinEtag = `AAAAAAAAAA${this.#next()}=`;
      return send(200, this.twin(stored));
    }
    return error(404, 'NotFound');
  }
}

const desired = desiredDevices(catalogue);
let hub: FakeIotHub;
let agent: LoopbackAgent;

beforeEach(async () => {
  hub = new FakeIotHub();
  await hub.start();
  agent = new LoopbackAgent(hub.port);
});
afterEach(async () => {
  agent.destroy();
  await hub.stop();
});

const open = () =>
  openHubRegistry({
    hub: 'iot-aurora-test',
    auth: { kind: 'connection-string', connectionString: CONNECTION_STRING },
    agent,
  });

async function readHub(pageSize = 1000) {
  const out = [];
  for await (const d of listHubDevices(open(), { pageSize })) out.push(d);
  return out;
}

async function syncOnce(options: { prune?: boolean } = {}) {
  const registry = open();
  const current = [];
  for await (const d of listHubDevices(registry)) current.push(d);
  const plan = planDeviceSync(desired, current, options);
  return {
    plan,
    result: await applyDeviceSync(registry, plan, { retryDelaysMs: [], sleep: async () => {} }),
  };
}

describe('applyDeviceSync over the azure-iothub Registry', () => {
  it('reads the hub with the query API, page by page', async () => {
    hub.add({ deviceId: 'aug-m01-temperature', tags: { facility: 'augsburg' } });
    hub.add({ deviceId: 'gw-augsburg', capabilities: { iotEdge: true } });
    hub.add({ deviceId: 'legacy-plc-7' });
    const devices = await readHub(2);
    expect(devices.map((d) => d.deviceId)).toEqual(['aug-m01-temperature', 'gw-augsburg', 'legacy-plc-7']);
    expect(devices[1]).toMatchObject({
      iotEdge: true,
      deviceScope: expect.stringMatching(/^ms-azure-iot-edge:\/\/gw-augsburg-/),
    });
    expect(devices[0]?.tags).toEqual({ facility: 'augsburg' });
    const queries = hub.requests.filter((r) => r.path === `/devices/query${API}`);
    expect(queries).toHaveLength(2);
    expect(
      queries.map((q) => [
        q.method,
        q.body,
        q.headers['x-ms-max-item-count'],
        q.headers['x-ms-continuation'],
      ]),
    ).toEqual([
      ['POST', { query: 'SELECT * FROM devices' }, '2', undefined],
      ['POST', { query: 'SELECT * FROM devices' }, '2', '2'],
    ]);
  });

  it('creates gateways, then sensors in their gateway scope, in bulk calls of at most 100, with tags', async () => {
    const progress: string[] = [];
    const registry = open();
    const plan = planDeviceSync(desired, []);
    const result = await applyDeviceSync(registry, plan, {
      onProgress: (e) => progress.push(`${e.step} ${e.done}/${e.total}`),
    });
    expect(result).toEqual({ created: 343, tagsUpdated: 0, identitiesUpdated: 0, removed: 0, failures: [] });

    const bulks = hub.requests.filter((r) => r.method === 'POST' && r.path === `/devices${API}`);
    expect(bulks.map((b) => (b.body as unknown[]).length)).toEqual([3, 100, 100, 100, 40]);
    const first = bulks[0];
    expect(first?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first?.headers.authorization).toMatch(
      new RegExp(`^SharedAccessSignature sr=${HOST}&sig=[^&]+&skn=registryReadWrite&se=\\d+$`),
    );
    expect((first?.body as unknown[] | undefined)?.[0]).toEqual({
      id: 'gw-augsburg',
      importMode: 'create',
      status: 'enabled',
      authentication: { type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } },
      capabilities: { iotEdge: true },
      tags: { facility: 'augsburg', role: 'gateway' },
    });
    const augScope = hub.devices.get('gw-augsburg')?.deviceScope;
    expect(augScope).toMatch(/^ms-azure-iot-edge:\/\/gw-augsburg-/);
    expect((bulks[1]?.body as unknown[] | undefined)?.[0]).toEqual({
      id: 'aug-m01-temperature',
      importMode: 'create',
      status: 'enabled',
      authentication: { type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } },
      capabilities: { iotEdge: false },
      deviceScope: augScope,
      parentScopes: [augScope],
      tags: { facility: 'augsburg', machine: 'aug-m01', metric: 'temperature', unit: 'degC' },
    });
    // The gateways' scopes come from the hub, between the two kinds of bulk call.
    const order = hub.requests.map((r) => `${r.method} ${r.path.replace(API, '')}`);
    expect(order.slice(0, 5)).toEqual([
      'POST /devices',
      'GET /devices/gw-augsburg',
      'GET /devices/gw-ingolstadt',
      'GET /devices/gw-regensburg',
      'POST /devices',
    ]);
    const rgb = hub.devices.get('rgb-m27-energy');
    expect(rgb?.deviceScope).toBe(hub.devices.get('gw-regensburg')?.deviceScope);
    expect(rgb?.tags).toEqual({ facility: 'regensburg', machine: 'rgb-m27', metric: 'energy', unit: 'kWh' });
    expect(progress.filter((p) => p.startsWith('create'))).toEqual([
      'create 3/343',
      'create 103/343',
      'create 203/343',
      'create 303/343',
      'create 343/343',
    ]);
  });

  it('is idempotent: after one sync, the next plans nothing and sends no write', async () => {
    await syncOnce();
    expect(hub.devices.size).toBe(343);
    const before = hub.requests.length;
    const { plan, result } = await syncOnce();
    expect(planIsEmpty(plan)).toBe(true);
    expect(plan.unchanged).toHaveLength(343);
    expect(result).toEqual({ created: 0, tagsUpdated: 0, identitiesUpdated: 0, removed: 0, failures: [] });
    expect(hub.requests.slice(before).every((r) => r.path === `/devices/query${API}`)).toBe(true);
  });

  it('patches a twin whose tag differs, guarded by the etag read when planning', async () => {
    await syncOnce();
    const sensor = hub.devices.get('ing-m03-pressure');
    if (!sensor) throw new Error('not synced');
    sensor.tags = { ...sensor.tags, unit: 'psi', owner: 'maintenance' };
    const etag = sensor.twinEtag;
    const before = hub.requests.length;
    const { plan, result } = await syncOnce();
    expect(plan.update.map((u) => u.deviceId)).toEqual(['ing-m03-pressure']);
    expect(result.tagsUpdated).toBe(1);
    const patch = hub.requests.slice(before).find((r) => r.method === 'PATCH');
    expect(patch?.path).toBe(`/twins/ing-m03-pressure${API}`);
    expect(patch?.headers['if-match']).toBe(`"${etag}"`);
    expect(patch?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(patch?.body).toEqual({
      tags: { facility: 'ingolstadt', machine: 'ing-m03', metric: 'pressure', unit: 'bar' },
    });
    expect(sensor.tags).toEqual({
      facility: 'ingolstadt',
      machine: 'ing-m03',
      metric: 'pressure',
      unit: 'bar',
      owner: 'maintenance',
    });
    expect(planIsEmpty((await syncOnce()).plan)).toBe(true);
  });

  it('records a twin changed since planning (412) as a failure and carries on', async () => {
    await syncOnce();
    for (const id of ['aug-m01-energy', 'aug-m02-energy']) {
      const d = hub.devices.get(id);
      if (d) d.tags = { ...d.tags, unit: 'Wh' };
    }
    const registry = open();
    const current = [];
    for await (const d of listHubDevices(registry)) current.push(d);
    const plan = planDeviceSync(desired, current);
    const raced = hub.devices.get('aug-m01-energy');
    if (raced) raced.twinEtag = 'changed-by-someone-else';
    const result = await applyDeviceSync(registry, plan, { retryDelaysMs: [] });
    expect(result.tagsUpdated).toBe(1);
    expect(result.failures).toEqual([
      {
        deviceId: 'aug-m01-energy',
        step: 'tags',
        code: 'internal',
        message: expect.stringContaining('run sync again'),
      },
    ]);
    expect(hub.devices.get('aug-m02-energy')?.tags['unit']).toBe('kWh');
  });

  it('moves a sensor into its gateway scope, keeping its keys', async () => {
    await syncOnce();
    const sensor = hub.devices.get('aug-m05-vibration');
    if (!sensor) throw new Error('not synced');
    const wrong = hub.devices.get('gw-ingolstadt')?.deviceScope ?? '';
    sensor.deviceScope = wrong;
    sensor.parentScopes = [wrong];
    const keys = structuredClone(sensor.authentication);
    const before = hub.requests.length;
    const { plan, result } = await syncOnce();
    expect(plan.update.map((u) => [u.deviceId, u.changes.map((c) => c.field)])).toEqual([
      ['aug-m05-vibration', ['parent']],
    ]);
    expect(result.identitiesUpdated).toBe(1);
    const put = hub.requests.slice(before).find((r) => r.method === 'PUT');
    expect(put?.path).toBe(`/devices/aug-m05-vibration${API}`);
    expect(put?.headers['if-match']).toBe('"*"');
    const augScope = hub.devices.get('gw-augsburg')?.deviceScope;
    expect(put?.body).toMatchObject({
      deviceId: 'aug-m05-vibration',
      deviceScope: augScope,
      parentScopes: [augScope],
    });
    expect(sensor.authentication.symmetricKey).toEqual(keys.symmetricKey);
    expect(planIsEmpty((await syncOnce()).plan)).toBe(true);
  });

  it('keeps extra devices unless pruning, then removes them in a bulk delete', async () => {
    await syncOnce();
    hub.add({ deviceId: 'legacy-plc-7' });
    const kept = await syncOnce();
    expect(kept.plan.extra.map((e) => e.deviceId)).toEqual(['legacy-plc-7']);
    expect(hub.devices.has('legacy-plc-7')).toBe(true);
    const before = hub.requests.length;
    const pruned = await syncOnce({ prune: true });
    expect(pruned.result.removed).toBe(1);
    expect(hub.devices.has('legacy-plc-7')).toBe(false);
    const del = hub.requests.slice(before).find((r) => r.method === 'POST' && r.path === `/devices${API}`);
    expect(del?.body).toEqual([
      {
        id: 'legacy-plc-7',
        importMode: 'Delete',
        authentication: { type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } },
      },
    ]);
    expect(hub.devices.size).toBe(343);
  });

  it('reports per-device bulk errors without losing the devices that were created', async () => {
    hub.add({ deviceId: 'gw-ingolstadt', capabilities: { iotEdge: true } });
    const plan = planDeviceSync(desired, []); // stale: planned before gw-ingolstadt appeared
    const result = await applyDeviceSync(open(), plan, { retryDelaysMs: [] });
    expect(result.created).toBe(342);
    expect(result.failures).toEqual([
      { deviceId: 'gw-ingolstadt', step: 'create', code: 'DeviceAlreadyExists', message: expect.any(String) },
    ]);
  });

  it('retries a throttled hub (429) after the configured delays', async () => {
    hub.throttleNext = 2;
    const slept: number[] = [];
    const registry = open();
    const devices = [];
    for await (const d of listHubDevices(registry, {
      retryDelaysMs: [10, 20, 30],
      sleep: async (ms) => void slept.push(ms),
    }))
      devices.push(d);
    expect(slept).toEqual([10, 20]);
    expect(hub.requests).toHaveLength(3);
  });

  it('turns a refused credential into a ConfigError that names the secret', async () => {
    hub.acceptAuthorization = 'Bearer ';
    await expect(readHub()).rejects.toThrow(ConfigError);
    await expect(readHub()).rejects.toThrow(
      /iothub-registry-connection-string.*HTTP 401|HTTP 401.*iothub-registry-connection-string/,
    );
  });

  it('authenticates with Entra ID: a bearer token for the IoT Hub scope', async () => {
    hub.acceptAuthorization = 'Bearer token-for-iothub';
    const scopes: unknown[] = [];
    const credential: HubTokenCredential = {
      getToken: async (scope) => {
        scopes.push(scope);
        return { token: 'token-for-iothub', expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const registry = openHubRegistry({ hub: 'iot-aurora-test', auth: { kind: 'token', credential }, agent });
    const devices = [];
    for await (const d of listHubDevices(registry)) devices.push(d);
    expect(devices).toEqual([]);
    expect(scopes).toEqual(['https://iothubs.azure.net/.default']);
    expect(hub.requests[0]?.headers.authorization).toBe('Bearer token-for-iothub');
    expect(hub.requests[0]?.headers.host).toBe(HOST);
  });
});

describe('toHubError', () => {
  const sdkError = (name: string, statusCode?: number, code?: string) =>
    Object.assign(new Error(`${name} happened`), {
      name,
      ...(statusCode ? { response: { statusCode } } : {}),
      code,
    });

  it('treats throttling, 5xx and lost connections as transient, so they are retried', () => {
    for (const e of [
      sdkError('ThrottlingError', 429),
      sdkError('ServiceUnavailableError', 503),
      sdkError('Error', undefined, 'ECONNRESET'),
    ]) {
      const mapped = toHubError(e, 'query devices');
      expect(mapped).toBeInstanceOf(SourceUnavailableError);
      expect(mapped.retryable).toBe(true);
    }
  });

  it('turns a missing Entra ID credential and an unknown host into configuration errors naming the flag', () => {
    const noToken = toHubError(sdkError('AggregateAuthenticationError'), 'query devices');
    expect(noToken).toBeInstanceOf(ConfigError);
    expect(noToken.message).toContain('--connection-string');
    expect(noToken.retryable).toBe(false);
    const noHost = toHubError(sdkError('Error', undefined, 'ENOTFOUND'), 'query devices');
    expect(noHost).toBeInstanceOf(ConfigError);
    expect(noHost.message).toContain('check --hub');
  });

  it('does not retry when the credential fails on the wire', async () => {
    const credential: HubTokenCredential = {
      getToken: async () => {
        throw Object.assign(new Error('no managed identity here'), { name: 'CredentialUnavailableError' });
      },
    };
    const registry = openHubRegistry({ hub: 'iot-aurora-test', auth: { kind: 'token', credential }, agent });
    const slept: number[] = [];
    const read = async () => {
      for await (const _ of listHubDevices(registry, { sleep: async (ms) => void slept.push(ms) })) {
      }
    };
    await expect(read()).rejects.toThrow(ConfigError);
    expect(slept).toEqual([]);
    expect(hub.requests).toEqual([]);
  });
});

describe('openHubRegistry', () => {
  it('takes a hub name or host name and refuses anything else naming --hub', () => {
    expect(hubHost('iot-aurora-prod')).toBe('iot-aurora-prod.azure-devices.net');
    expect(hubHost('IoT-Aurora-Prod.azure-devices.net')).toBe('iot-aurora-prod.azure-devices.net');
    expect(() => hubHost('-bad')).toThrow(UsageError);
    expect(() => hubHost('a b')).toThrow(/--hub/);
  });

  it('refuses a connection string for another hub, and a malformed one without quoting it', () => {
    expect(() =>
      openHubRegistry({
        hub: 'iot-other',
        auth: { kind: 'connection-string', connectionString: CONNECTION_STRING },
      }),
    ).toThrow(/is for iot-aurora-test\.azure-devices\.net, but --hub names iot-other/);
    const broken = 'HostName=x.azure-devices.net;SharedAccessKey=c2VjcmV0LXZhbHVl';
    let message = '';
    try {
      openHubRegistry({ hub: 'iot-x', auth: { kind: 'connection-string', connectionString: broken } });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = `${(error as Error).message} ${JSON.stringify((error as ConfigError).toJSON())}`;
    }
    expect(message).toContain('iothub-registry-connection-string');
    expect(message).not.toContain('c2VjcmV0LXZhbHVl');
  });
});
