import { catalogue } from '@aurora/plant';
import { describe, expect, it } from 'vitest';
import {
  type DesiredDevice,
  describeChange,
  desiredDevices,
  gatewayDeviceId,
  type HubDevice,
  planDeviceSync,
  planIsEmpty,
} from './device-plan.js';

const desired = desiredDevices(catalogue);
const scopeOf = (gatewayId: string) => `ms-azure-iot-edge://${gatewayId}-638000000000000000`;

/** What the hub holds after a complete sync of `devices`. */
function syncedHub(devices: readonly DesiredDevice[]): HubDevice[] {
  return devices.map((d) => ({
    deviceId: d.deviceId,
    etag: `AAAAAAAAAA${d.deviceId.length}=`,
    iotEdge: d.iotEdge,
    deviceScope: scopeOf(d.parentId ?? d.deviceId),
    tags: { ...d.tags },
    status: 'enabled',
  }));
}

describe('desiredDevices', () => {
  it('asks for one IoT Edge gateway per facility and one device per sensor: 3 + 340', () => {
    expect(desired).toHaveLength(343);
    const gateways = desired.filter((d) => d.role === 'gateway');
    expect(gateways.map((g) => g.deviceId)).toEqual(['gw-augsburg', 'gw-ingolstadt', 'gw-regensburg']);
    expect(gateways.every((g) => g.iotEdge && g.parentId === undefined)).toBe(true);
    expect(desired.filter((d) => d.role === 'sensor')).toHaveLength(340);
    expect(new Set(desired.map((d) => d.deviceId)).size).toBe(343);
  });

  it('tags a gateway with its facility and role', () => {
    expect(desired.find((d) => d.deviceId === 'gw-ingolstadt')?.tags).toEqual({
      facility: 'ingolstadt',
      role: 'gateway',
    });
  });

  it('names a sensor device by the sensor id and tags it facility/machine/metric/unit from the catalogue', () => {
    expect(desired.find((d) => d.deviceId === 'aug-m01-temperature')).toEqual({
      deviceId: 'aug-m01-temperature',
      role: 'sensor',
      iotEdge: false,
      parentId: 'gw-augsburg',
      tags: { facility: 'augsburg', machine: 'aug-m01', metric: 'temperature', unit: 'degC' },
    });
    expect(desired.find((d) => d.deviceId === 'rgb-m27-vibration')?.tags).toEqual({
      facility: 'regensburg',
      machine: 'rgb-m27',
      metric: 'vibration',
      unit: 'mm/s',
    });
  });

  it('puts every catalogue sensor behind its own facility gateway, with the catalogue unit', () => {
    for (const sensor of catalogue.sensors) {
      const device = desired.find((d) => d.deviceId === sensor.id);
      expect(device?.parentId).toBe(gatewayDeviceId(sensor.facilityId));
      expect(device?.tags).toEqual({
        facility: sensor.facilityId,
        machine: sensor.machineId,
        metric: sensor.metric,
        unit: sensor.unit,
      });
    }
  });
});

describe('planDeviceSync', () => {
  it('creates everything in an empty hub, gateways first', () => {
    const plan = planDeviceSync(desired, []);
    expect(plan.create).toHaveLength(343);
    expect(plan.create.slice(0, 3).map((a) => a.deviceId)).toEqual([
      'gw-augsburg',
      'gw-ingolstadt',
      'gw-regensburg',
    ]);
    expect(plan.create[3]?.deviceId).toBe('aug-m01-temperature');
    expect(plan.update).toEqual([]);
    expect(plan.unchanged).toEqual([]);
    expect(plan.extra).toEqual([]);
    expect(planIsEmpty(plan)).toBe(false);
  });

  it('plans nothing once the hub matches: a second sync is a no-op', () => {
    const plan = planDeviceSync(desired, syncedHub(desired));
    expect(plan.create).toEqual([]);
    expect(plan.update).toEqual([]);
    expect(plan.unchanged).toHaveLength(343);
    expect(planIsEmpty(plan)).toBe(true);
  });

  it('updates exactly the tag that differs and leaves tags Aurora does not own alone', () => {
    const hub = syncedHub(desired).map((d) =>
      d.deviceId === 'ing-m03-pressure'
        ? { ...d, tags: { ...d.tags, unit: 'psi', owner: 'maintenance' } }
        : d,
    );
    const plan = planDeviceSync(desired, hub);
    expect(plan.update).toHaveLength(1);
    expect(plan.update[0]?.deviceId).toBe('ing-m03-pressure');
    expect(plan.update[0]?.changes).toEqual([{ field: 'tag', key: 'unit', from: 'psi', to: 'bar' }]);
    expect(plan.update[0]?.current.etag).toBe(hub.find((d) => d.deviceId === 'ing-m03-pressure')?.etag);
    expect(plan.unchanged).toHaveLength(342);
  });

  it('sees a missing tag and a tag under the wrong name as changes', () => {
    const hub = syncedHub(desired).map((d) =>
      d.deviceId === 'aug-m02-energy'
        ? { ...d, tags: { facility: 'augsburg', machineId: 'aug-m02', metric: 'energy', unit: 'kWh' } }
        : d,
    );
    const changes = planDeviceSync(desired, hub).update[0]?.changes;
    expect(changes).toEqual([{ field: 'tag', key: 'machine', from: undefined, to: 'aug-m02' }]);
    expect(changes?.map(describeChange)).toEqual(['tag machine (unset) -> "aug-m02"']);
  });

  it('turns on IoT Edge on a gateway registered as a plain device', () => {
    const hub = syncedHub(desired).map((d) => (d.deviceId === 'gw-augsburg' ? { ...d, iotEdge: false } : d));
    const plan = planDeviceSync(desired, hub);
    expect(plan.update.map((u) => [u.deviceId, u.changes])).toEqual([
      ['gw-augsburg', [{ field: 'iotEdge', from: false, to: true }]],
    ]);
  });

  it('moves a sensor outside its gateway scope, and sensors whose gateway is not in the hub yet', () => {
    const hub = syncedHub(desired)
      .filter((d) => d.deviceId !== 'gw-regensburg')
      .map((d) => (d.deviceId === 'aug-m01-vibration' ? { ...d, deviceScope: scopeOf('gw-ingolstadt') } : d));
    const plan = planDeviceSync(desired, hub);
    expect(plan.create.map((a) => a.deviceId)).toEqual(['gw-regensburg']);
    const moved = plan.update.map((u) => u.deviceId);
    expect(moved).toContain('aug-m01-vibration');
    expect(plan.update.find((u) => u.deviceId === 'aug-m01-vibration')?.changes).toEqual([
      { field: 'parent', from: scopeOf('gw-ingolstadt'), to: 'gw-augsburg' },
    ]);
    expect(moved.filter((id) => id.startsWith('rgb-'))).toHaveLength(27 * 4);
    expect(moved).toHaveLength(1 + 108);
  });

  it('reports devices the catalogue does not know as extra, and marks them for removal only with prune', () => {
    const stranger: HubDevice = { deviceId: 'legacy-plc-7', etag: 'x', iotEdge: false, tags: {} };
    const kept = planDeviceSync(desired, [...syncedHub(desired), stranger]);
    expect(kept.extra.map((e) => e.deviceId)).toEqual(['legacy-plc-7']);
    expect(kept.prune).toBe(false);
    expect(planIsEmpty(kept)).toBe(true);
    const pruned = planDeviceSync(desired, [...syncedHub(desired), stranger], { prune: true });
    expect(pruned.prune).toBe(true);
    expect(planIsEmpty(pruned)).toBe(false);
    expect(pruned.hubCount).toBe(344);
    expect(pruned.desiredCount).toBe(343);
  });
});
