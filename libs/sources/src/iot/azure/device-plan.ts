import type { Catalogue } from '@aurora/plant';

/**
 * Which identities the plant needs in IoT Hub, and what a sync would change. Pure: no SDK, no I/O, so
 * the dry run and the real run decide exactly the same way.
 *
 * Sensors are devices of their own (device id = sensor id) behind their facility's IoT Edge gateway:
 * the edge module that bridges Mosquitto connects each sensor through edgeHub under the sensor's
 * identity, so `iothub-connection-device-id` on every message is the catalogue's sensor id and the
 * telemetry handler needs no lookup table. The gateway is their parent (deviceScope/parentScopes):
 * edgeHub only accepts, and keeps authenticating while offline, devices in its own scope.
 */

/** The gateway's tags: which facility it serves. */
export interface GatewayTags {
  facility: string;
  role: 'gateway';
}

/** A sensor's tags, values straight from the catalogue: what fleet queries and routing filter on. */
export interface SensorTags {
  facility: string;
  machine: string;
  metric: string;
  unit: string;
}

/** An identity the catalogue asks for. */
export interface DesiredDevice {
  deviceId: string;
  role: 'gateway' | 'sensor';
  /** IoT Edge capability: true for the gateways only. */
  iotEdge: boolean;
  /** The gateway whose scope a sensor sits in; unset for gateways. */
  parentId?: string;
  tags: GatewayTags | SensorTags;
}

/** What the hub holds for one device, as read from its twin (`SELECT * FROM devices`). */
export interface HubDevice {
  deviceId: string;
  /** The twin's etag, for optimistic concurrency on tag updates. */
  etag: string;
  iotEdge: boolean;
  /** `ms-azure-iot-edge://<gateway>-<generation>` on a gateway and on the devices in its scope. */
  deviceScope?: string;
  tags: Readonly<Record<string, unknown>>;
  status?: string;
}

export type DeviceChange =
  | { field: 'tag'; key: string; from: unknown; to: string }
  | { field: 'iotEdge'; from: boolean; to: boolean }
  | { field: 'parent'; from: string | undefined; to: string };

export interface CreateAction {
  deviceId: string;
  device: DesiredDevice;
}

export interface UpdateAction {
  deviceId: string;
  device: DesiredDevice;
  current: HubDevice;
  changes: DeviceChange[];
}

export interface ExtraDevice {
  deviceId: string;
  current: HubDevice;
}

/** The difference between the catalogue and the hub; gateways always come before sensors. */
export interface DeviceSyncPlan {
  /** Identities the catalogue asks for. */
  desiredCount: number;
  /** Identities the hub holds. */
  hubCount: number;
  create: CreateAction[];
  update: UpdateAction[];
  unchanged: string[];
  /** In the hub but not in the catalogue: reported, and removed only when `prune` is set. */
  extra: ExtraDevice[];
  prune: boolean;
}

/** `augsburg` -> `gw-augsburg`: the IoT Edge gateway of a facility. */
export const gatewayDeviceId = (facilityId: string): string => `gw-${facilityId}`;

/** One IoT Edge gateway per facility, then one device per sensor, in catalogue order. */
export function desiredDevices(catalogue: Pick<Catalogue, 'facilities' | 'sensors'>): DesiredDevice[] {
  const gateways: DesiredDevice[] = catalogue.facilities.map((facility) => ({
    deviceId: gatewayDeviceId(facility.id),
    role: 'gateway',
    iotEdge: true,
    tags: { facility: facility.id, role: 'gateway' },
  }));
  const sensors: DesiredDevice[] = catalogue.sensors.map((sensor) => ({
    deviceId: sensor.id,
    role: 'sensor',
    iotEdge: false,
    parentId: gatewayDeviceId(sensor.facilityId),
    tags: {
      facility: sensor.facilityId,
      machine: sensor.machineId,
      metric: sensor.metric,
      unit: sensor.unit,
    },
  }));
  return [...gateways, ...sensors];
}

/**
 * Compares the desired identities with the hub's. Only the tags Aurora owns are compared, so tags
 * others add (an owner, a maintenance note) survive every sync. A sensor is in the right place when its
 * deviceScope is its gateway's; a sensor whose gateway is not in the hub yet is moved once it exists.
 */
export function planDeviceSync(
  desired: readonly DesiredDevice[],
  hub: Iterable<HubDevice>,
  options: { prune?: boolean } = {},
): DeviceSyncPlan {
  const current = new Map<string, HubDevice>();
  for (const device of hub) current.set(device.deviceId, device);
  const wanted = new Set(desired.map((d) => d.deviceId));
  const plan: DeviceSyncPlan = {
    desiredCount: desired.length,
    hubCount: current.size,
    create: [],
    update: [],
    unchanged: [],
    extra: [],
    prune: options.prune ?? false,
  };
  const ordered = [...desired].sort((a, b) => roleOrder(a) - roleOrder(b));
  for (const device of ordered) {
    const existing = current.get(device.deviceId);
    if (!existing) {
      plan.create.push({ deviceId: device.deviceId, device });
      continue;
    }
    const changes = diff(device, existing, current);
    if (changes.length === 0) plan.unchanged.push(device.deviceId);
    else plan.update.push({ deviceId: device.deviceId, device, current: existing, changes });
  }
  for (const [deviceId, device] of current) {
    if (!wanted.has(deviceId)) plan.extra.push({ deviceId, current: device });
  }
  plan.extra.sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  return plan;
}

/** True when applying the plan would change nothing in the hub. */
export const planIsEmpty = (plan: DeviceSyncPlan): boolean =>
  plan.create.length === 0 && plan.update.length === 0 && (!plan.prune || plan.extra.length === 0);

const roleOrder = (d: DesiredDevice) => (d.role === 'gateway' ? 0 : 1);

function diff(
  device: DesiredDevice,
  existing: HubDevice,
  hub: ReadonlyMap<string, HubDevice>,
): DeviceChange[] {
  const changes: DeviceChange[] = [];
  for (const [key, to] of Object.entries(device.tags) as [string, string][]) {
    const from = existing.tags[key];
    if (from !== to) changes.push({ field: 'tag', key, from, to });
  }
  if (existing.iotEdge !== device.iotEdge) {
    changes.push({ field: 'iotEdge', from: existing.iotEdge, to: device.iotEdge });
  }
  if (device.parentId !== undefined) {
    const gatewayScope = hub.get(device.parentId)?.deviceScope;
    if (gatewayScope === undefined || existing.deviceScope !== gatewayScope) {
      changes.push({ field: 'parent', from: existing.deviceScope, to: device.parentId });
    }
  }
  return changes;
}

/** `tag unit "C" -> "degC"`, `parent (none) -> gw-augsburg`: one change for people. */
export function describeChange(change: DeviceChange): string {
  switch (change.field) {
    case 'tag':
      return `tag ${change.key} ${change.from === undefined ? '(unset)' : JSON.stringify(change.from)} -> ${JSON.stringify(change.to)}`;
    case 'iotEdge':
      return `iotEdge ${change.from} -> ${change.to}`;
    case 'parent':
      return `parent ${change.from ?? '(none)'} -> ${change.to}`;
  }
}
