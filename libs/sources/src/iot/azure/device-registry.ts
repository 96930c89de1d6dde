import type { Agent } from 'node:https';
import {
  AuroraError,
  ConfigError,
  retry,
  type Sleep,
  SourceUnavailableError,
  toAuroraError,
  UsageError,
} from '@aurora/core';
import iothub, { type Registry } from 'azure-iothub';
import type { DesiredDevice, DeviceSyncPlan, HubDevice } from './device-plan.js';

export * from './device-plan.js';

// azure-iothub assigns module.exports an object literal, which Node's ESM loader cannot see named
// exports in: take the values from the default (CommonJS) export.
const { ConnectionString, Registry: RegistryClient } = iothub;

/** The secret holding the hub's `registryReadWrite` (or `iothubowner`) connection string. */
export const IOTHUB_REGISTRY_SECRET = 'iothub-registry-connection-string';

/** The bulk registry API refuses more than 100 devices per call. */
export const BULK_MAX_DEVICES = 100;

/** Entra ID credential accepted by Registry.fromTokenCredential (an @azure/core-auth TokenCredential). */
export type HubTokenCredential = Parameters<typeof Registry.fromTokenCredential>[1];

export type HubAuth =
  | { kind: 'connection-string'; connectionString: string }
  | { kind: 'token'; credential: HubTokenCredential };

export interface OpenHubRegistryOptions {
  /** The hub's name (`iot-aurora-prod`) or host name (`iot-aurora-prod.azure-devices.net`). */
  hub: string;
  auth: HubAuth;
  /**
   * The HTTPS agent every registry request goes through. azure-iothub has no pluggable HTTP client, so
   * this is the seam for a proxy, and for tests that route the real SDK to a loopback server.
   */
  agent?: Agent;
}

const HUB_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{1,48}[A-Za-z0-9])$/;

/** `iot-aurora` -> `iot-aurora.azure-devices.net`; a host name passes through. UsageError on anything else. */
export function hubHost(hub: string): string {
  const host = hub.includes('.') ? hub.toLowerCase() : `${hub.toLowerCase()}.azure-devices.net`;
  const name = host.split('.')[0] ?? '';
  if (!HUB_NAME.test(name)) {
    throw new UsageError(
      `--hub ${JSON.stringify(hub)} is not an IoT Hub name: 3-50 letters, digits and hyphens, e.g. iot-aurora-prod`,
    );
  }
  return host;
}

/**
 * A Registry client for the hub, authenticated by a registry connection string (shared access policy)
 * or by Entra ID (needs the "IoT Hub Registry Contributor" role on the hub).
 */
export function openHubRegistry(options: OpenHubRegistryOptions): Registry {
  const host = hubHost(options.hub);
  let registry: Registry;
  if (options.auth.kind === 'connection-string') {
    let hostName: string | undefined;
    try {
      // Requires HostName, SharedAccessKeyName and SharedAccessKey.
      hostName = ConnectionString.parse(options.auth.connectionString).HostName;
    } catch {
      // The parser's message quotes the string; it holds the key, so it must not reach a log.
      throw new ConfigError(
        `secret ${IOTHUB_REGISTRY_SECRET} is not an IoT Hub connection string (HostName=...;SharedAccessKeyName=...;SharedAccessKey=...)`,
        [{ variable: IOTHUB_REGISTRY_SECRET, problem: 'not an IoT Hub connection string' }],
      );
    }
    if (hostName?.toLowerCase() !== host) {
      throw new UsageError(
        `secret ${IOTHUB_REGISTRY_SECRET} is for ${hostName}, but --hub names ${host}; pass --hub ${hostName?.split('.')[0]} or fix the secret`,
      );
    }
    registry = RegistryClient.fromConnectionString(options.auth.connectionString);
  } else {
    registry = RegistryClient.fromTokenCredential(host, options.auth.credential);
  }
  if (options.agent) useAgent(registry, options.agent);
  return registry;
}

/**
 * The Registry constructor installs its own keep-alive HTTPS agent on its REST client; replacing it is
 * the only way in without re-implementing the SDK's request signing. Pinned SDK version; the wire tests
 * fail if this stops working.
 */
function useAgent(registry: Registry, agent: Agent): void {
  const client = (registry as unknown as { _restApiClient?: { setOptions?: (o: unknown) => void } })
    ._restApiClient;
  if (typeof client?.setOptions !== 'function') {
    throw new AuroraError(
      'internal',
      'azure-iothub Registry no longer exposes its REST client; cannot set the agent',
    );
  }
  client.setOptions({ http: { agent } });
}

export interface HubCallOptions {
  signal?: AbortSignal;
  /** Waits before retrying a throttled (429) or unavailable (5xx) call; default 1, 2, 5, 10, 20 s. */
  retryDelaysMs?: readonly number[];
  sleep?: Sleep;
}

const DEFAULT_HUB_RETRY_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 20_000];

/** Every device twin in the hub, page by page (`SELECT * FROM devices`; modules are not devices). */
export async function* listHubDevices(
  registry: Registry,
  options: HubCallOptions & { pageSize?: number } = {},
): AsyncIterable<HubDevice> {
  const query = registry.createQuery('SELECT * FROM devices', options.pageSize ?? 1000);
  while (query.hasMoreResults) {
    // `next()` without an argument ignores the token of the previous page (azure-iothub 1.16), so pass it.
    const token = query.continuationToken;
    const page = await hubCall('query devices', undefined, options, () => query.next(token));
    const twins: unknown = page.result;
    if (!Array.isArray(twins)) {
      throw new AuroraError('internal', 'IoT Hub answered the device query with something other than a list');
    }
    for (const twin of twins) yield toHubDevice(twin);
  }
}

/** Reads one twin as returned by the query API into the fields the plan compares. */
export function toHubDevice(twin: unknown): HubDevice {
  const t = (twin ?? {}) as Record<string, unknown>;
  const deviceId = t['deviceId'];
  if (typeof deviceId !== 'string' || deviceId === '') {
    throw new AuroraError('internal', 'IoT Hub returned a twin without a deviceId');
  }
  const tags = t['tags'];
  const capabilities = t['capabilities'] as Record<string, unknown> | undefined;
  const deviceScope = t['deviceScope'];
  const status = t['status'];
  return {
    deviceId,
    etag: typeof t['etag'] === 'string' ? t['etag'] : '*',
    iotEdge: capabilities?.['iotEdge'] === true,
    ...(typeof deviceScope === 'string' && deviceScope !== '' ? { deviceScope } : {}),
    tags: tags !== null && typeof tags === 'object' ? (tags as Record<string, unknown>) : {},
    ...(typeof status === 'string' ? { status } : {}),
  };
}

export type SyncStep = 'create' | 'tags' | 'identity' | 'remove';

export interface ApplyDeviceSyncOptions extends HubCallOptions {
  /** Twin and identity updates in flight at once; IoT Hub throttles registry calls per unit. Default 8. */
  concurrency?: number;
  onProgress?: (event: { step: SyncStep; done: number; total: number }) => void;
}

export interface DeviceSyncFailure {
  deviceId: string;
  step: SyncStep;
  /** A stable code: the AuroraError code, or the hub's per-device error code from a bulk call. */
  code: string;
  message: string;
}

export interface DeviceSyncResult {
  created: number;
  tagsUpdated: number;
  identitiesUpdated: number;
  removed: number;
  failures: DeviceSyncFailure[];
}

/**
 * Makes the hub match the plan: gateways first (bulk, with their tags), then the sensors in their
 * gateway's scope (bulk, at most 100 per call, with their tags), then tag patches on existing twins
 * guarded by the etag read when planning, then identity changes (edge capability, parent), then - only
 * with `prune` - removal of the extra devices. A failure of one device is recorded and the rest go on;
 * the next sync plans whatever is still missing.
 */
export async function applyDeviceSync(
  registry: Registry,
  plan: DeviceSyncPlan,
  options: ApplyDeviceSyncOptions = {},
): Promise<DeviceSyncResult> {
  const result: DeviceSyncResult = {
    created: 0,
    tagsUpdated: 0,
    identitiesUpdated: 0,
    removed: 0,
    failures: [],
  };
  const fail = (deviceId: string, step: SyncStep, error: unknown, code?: string) => {
    const e = toAuroraError(error);
    result.failures.push({ deviceId, step, code: code ?? e.code, message: e.message });
  };
  const concurrency = options.concurrency ?? 8;
  const creates = plan.create.map((a) => a.device);
  const createTotal = creates.length;
  let createDone = 0;
  const progressCreate = (n: number) => {
    createDone += n;
    options.onProgress?.({ step: 'create', done: createDone, total: createTotal });
  };

  const gateways = creates.filter((d) => d.role === 'gateway');
  for (const batch of chunks(gateways, BULK_MAX_DEVICES)) {
    result.created += await bulkCreate(registry, batch, new Map(), options, fail);
    progressCreate(batch.length);
  }

  const scopes = await gatewayScopes(registry, plan, options, fail);
  const sensors = creates.filter((d) => d.role !== 'gateway');
  for (const batch of chunks(sensors, BULK_MAX_DEVICES)) {
    result.created += await bulkCreate(registry, batch, scopes, options, fail);
    progressCreate(batch.length);
  }

  const tagUpdates = plan.update.filter((u) => u.changes.some((c) => c.field === 'tag'));
  let tagsDone = 0;
  await forEachBounded(tagUpdates, concurrency, options.signal, async (u) => {
    try {
      await hubCall('update twin', u.deviceId, options, () =>
        registry.updateTwin(u.deviceId, { tags: u.device.tags }, u.current.etag),
      );
      result.tagsUpdated++;
    } catch (error) {
      fail(u.deviceId, 'tags', error);
    }
    options.onProgress?.({ step: 'tags', done: ++tagsDone, total: tagUpdates.length });
  });

  const identityUpdates = plan.update.filter((u) => u.changes.some((c) => c.field !== 'tag'));
  let identityDone = 0;
  await forEachBounded(identityUpdates, concurrency, options.signal, async (u) => {
    try {
      await updateIdentity(registry, u.device, scopes, options);
      result.identitiesUpdated++;
    } catch (error) {
      fail(u.deviceId, 'identity', error);
    }
    options.onProgress?.({ step: 'identity', done: ++identityDone, total: identityUpdates.length });
  });

  if (plan.prune) {
    let removedDone = 0;
    for (const batch of chunks(plan.extra, BULK_MAX_DEVICES)) {
      const ids = batch.map((e) => e.deviceId);
      result.removed += await bulk(
        'remove devices',
        ids,
        options,
        () =>
          registry.removeDevices(
            batch.map((e) => ({ deviceId: e.deviceId })),
            true,
          ),
        (id, code, error) => fail(id, 'remove', error, code),
      );
      removedDone += batch.length;
      options.onProgress?.({ step: 'remove', done: removedDone, total: plan.extra.length });
    }
  }
  return result;
}

/** The body of one device in a bulk create (the REST API's ExportImportDevice, minus what the SDK adds). */
export function bulkCreateEntry(
  device: DesiredDevice,
  parentScope: string | undefined,
): Registry.DeviceDescription {
  return {
    deviceId: device.deviceId,
    status: 'enabled',
    // Empty keys: the hub generates both symmetric keys.
    authentication: { type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } },
    capabilities: { iotEdge: device.iotEdge },
    ...(parentScope === undefined ? {} : { deviceScope: parentScope, parentScopes: [parentScope] }),
    tags: device.tags,
  };
}

async function bulkCreate(
  registry: Registry,
  devices: readonly DesiredDevice[],
  scopes: ReadonlyMap<string, string>,
  options: HubCallOptions,
  fail: (deviceId: string, step: SyncStep, error: unknown, code?: string) => void,
): Promise<number> {
  const entries: Registry.DeviceDescription[] = [];
  for (const device of devices) {
    const scope = device.parentId === undefined ? undefined : scopes.get(device.parentId);
    if (device.parentId !== undefined && scope === undefined) {
      // Created outside its gateway's scope it could not connect through edgeHub; leave it to the next sync.
      fail(
        device.deviceId,
        'create',
        new AuroraError('internal', `gateway ${device.parentId} has no device scope; create it first`),
      );
      continue;
    }
    entries.push(bulkCreateEntry(device, scope));
  }
  if (entries.length === 0) return 0;
  return bulk(
    'add devices',
    entries.map((e) => e.deviceId),
    options,
    () => registry.addDevices(entries),
    (id, code, error) => fail(id, 'create', error, code),
  );
}

/** Runs one bulk call; returns how many devices succeeded, reporting per-device errors through `fail`. */
async function bulk(
  operation: string,
  deviceIds: readonly string[],
  options: HubCallOptions,
  call: () => Promise<{ responseBody: Registry.BulkRegistryOperationResult }>,
  fail: (deviceId: string, code: string, error: unknown) => void,
): Promise<number> {
  let outcome: Registry.BulkRegistryOperationResult;
  try {
    outcome = (await hubCall(operation, undefined, options, call)).responseBody;
  } catch (error) {
    // A bulk call with failed devices comes back as 400 with the per-device errors in the body.
    const body = bulkBody(error);
    if (!body) {
      for (const id of deviceIds) fail(id, toAuroraError(error).code, error);
      return 0;
    }
    outcome = body;
  }
  const failed = new Set<string>();
  for (const e of outcome.errors ?? []) {
    failed.add(e.deviceId);
    const code = String(e.errorCode);
    fail(e.deviceId, code, new AuroraError('internal', `${operation}: ${code}: ${e.errorStatus}`));
  }
  return deviceIds.filter((id) => !failed.has(id)).length;
}

function bulkBody(error: unknown): Registry.BulkRegistryOperationResult | undefined {
  const sdkError = error instanceof AuroraError ? error.cause : error;
  const raw = (sdkError as { responseBody?: unknown } | undefined)?.responseBody;
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed = JSON.parse(raw) as Partial<Registry.BulkRegistryOperationResult>;
    return Array.isArray(parsed.errors) ? { isSuccessful: false, errors: parsed.errors } : undefined;
  } catch {
    return undefined;
  }
}

/** The deviceScope of every gateway a sensor in the plan needs, from the plan's snapshot or the hub. */
async function gatewayScopes(
  registry: Registry,
  plan: DeviceSyncPlan,
  options: HubCallOptions,
  fail: (deviceId: string, step: SyncStep, error: unknown) => void,
): Promise<Map<string, string>> {
  const known = new Map<string, string>();
  const fromPlan = [...plan.update.map((u) => u.current), ...plan.extra.map((e) => e.current)];
  for (const d of fromPlan) if (d.deviceScope && d.iotEdge) known.set(d.deviceId, d.deviceScope);
  const needed = new Set<string>();
  for (const a of plan.create) if (a.device.parentId) needed.add(a.device.parentId);
  for (const u of plan.update)
    if (u.device.parentId && u.changes.some((c) => c.field === 'parent')) needed.add(u.device.parentId);
  const scopes = new Map<string, string>();
  for (const gatewayId of needed) {
    const scope = known.get(gatewayId);
    if (scope) {
      scopes.set(gatewayId, scope);
      continue;
    }
    // Unchanged gateways are not in the plan's snapshot, and new ones get their scope from the hub.
    try {
      const device = (await hubCall('get device', gatewayId, options, () => registry.get(gatewayId)))
        .responseBody as {
        deviceScope?: string;
      };
      if (device.deviceScope) scopes.set(gatewayId, device.deviceScope);
    } catch (error) {
      fail(gatewayId, 'identity', error);
    }
  }
  return scopes;
}

/** Read-modify-write of one identity, keeping its keys: a PUT without them would make the hub regenerate them. */
async function updateIdentity(
  registry: Registry,
  device: DesiredDevice,
  scopes: ReadonlyMap<string, string>,
  options: HubCallOptions,
): Promise<void> {
  const current = (await hubCall('get device', device.deviceId, options, () => registry.get(device.deviceId)))
    .responseBody;
  const next: Registry.DeviceDescription = {
    ...JSON.parse(JSON.stringify(current)),
    capabilities: { ...current.capabilities, iotEdge: device.iotEdge },
  };
  if (device.parentId !== undefined) {
    const scope = scopes.get(device.parentId);
    if (scope === undefined) {
      throw new AuroraError(
        'internal',
        `gateway ${device.parentId} has no device scope; cannot place ${device.deviceId}`,
      );
    }
    next['deviceScope'] = scope;
    next['parentScopes'] = [scope];
  }
  await hubCall('update device', device.deviceId, options, () => registry.update(next));
}

/** One SDK call with the hub's errors mapped to Aurora's, throttling and outages retried. */
async function hubCall<T>(
  operation: string,
  deviceId: string | undefined,
  options: HubCallOptions,
  call: () => Promise<T>,
): Promise<T> {
  return retry(
    async () => {
      options.signal?.throwIfAborted();
      try {
        return await call();
      } catch (error) {
        throw toHubError(error, operation, deviceId);
      }
    },
    {
      delaysMs: options.retryDelaysMs ?? DEFAULT_HUB_RETRY_DELAYS_MS,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
}

/**
 * Maps an azure-iothub error (classes from its RestApiClient.translateError, with the HTTP response
 * attached) to Aurora's taxonomy: auth problems are configuration, throttling and 5xx are transient.
 */
export function toHubError(error: unknown, operation: string, deviceId?: string): AuroraError {
  if (error instanceof AuroraError) return error;
  const e = error as {
    name?: string;
    message?: string;
    response?: { statusCode?: number };
    responseBody?: unknown;
  };
  const status = e.response?.statusCode;
  const where = `IoT Hub ${operation}${deviceId ? ` ${deviceId}` : ''}`;
  const details = {
    operation,
    ...(deviceId ? { deviceId } : {}),
    ...(status ? { status } : {}),
    sdkError: e.name,
  };
  const message = `${where} failed${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(error)}`;
  if (status === 401 || status === 403) {
    return new ConfigError(
      `${message}; check the ${IOTHUB_REGISTRY_SECRET} secret, or grant "IoT Hub Registry Contributor" to the Entra identity`,
      [{ variable: IOTHUB_REGISTRY_SECRET, problem: `hub refused the credential (HTTP ${status})` }],
    );
  }
  if (
    ['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError'].includes(
      e.name ?? '',
    )
  ) {
    return new ConfigError(
      `${where} failed: no Entra ID token (${e.message ?? e.name}); sign in (az login), run with a managed identity, or pass --connection-string`,
      [{ variable: '--connection-string', problem: 'no Entra ID credential available' }],
    );
  }
  if ((error as { code?: unknown }).code === 'ENOTFOUND') {
    return new ConfigError(`${message}; no such host, check --hub`, [
      { variable: '--hub', problem: 'host not found' },
    ]);
  }
  if (status === 404 && e.name === 'IotHubNotFoundError') {
    return new ConfigError(`${message}; check --hub`, [{ variable: '--hub', problem: 'no such IoT Hub' }]);
  }
  if (status === 412) {
    return new AuroraError(
      'internal',
      `${message}; the twin changed since the plan was made, run sync again`,
      {
        cause: error,
        details,
      },
    );
  }
  if (status === undefined || status === 408 || status === 429 || status >= 500) {
    return new SourceUnavailableError(message, { cause: error, details });
  }
  return new AuroraError('internal', message, { cause: error, details });
}

function* chunks<T>(items: readonly T[], size: number): Iterable<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Runs `fn` over the items with at most `limit` in flight; stops starting new ones once aborted. */
async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
