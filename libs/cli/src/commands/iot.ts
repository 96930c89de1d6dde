import type { Command } from 'commander';
import { registerIotDevices } from './iot-devices.js';
import { registerIotReplay } from './iot-replay.js';

/** `aurora iot ...`: the Azure side of the telemetry path (IoT Hub identities, Event Hubs replay). */
export function registerIot(program: Command): void {
  const iot = program
    .command('iot')
    .description('the Azure side of IoT: device identities in IoT Hub, replay from Event Hubs');
  registerIotDevices(iot);
  registerIotReplay(iot);
}
