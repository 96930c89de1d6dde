import type { Clock, Logger } from '@aurora/core';
import { connectSensors, publishTelemetry, simulateTelemetry, type TelemetrySimulation } from '@aurora/plant';

export interface LiveSensors {
  stop(): Promise<void>;
  readonly published: number;
}

/**
 * The simulated plant in real time (for `aurora start`): every second, the readings whose event time fell
 * in the second just passed are published. Windows tile, so nothing is skipped or sent twice.
 */
export async function startLiveSensors(options: {
  mqttUrl: string;
  seed: number;
  rateHz: number;
  badRatio: number;
  clock: Clock;
  log: Logger;
  machineState?: TelemetrySimulation['machineState'];
}): Promise<LiveSensors> {
  const client = await connectSensors(options.mqttUrl, `aurora-live-sensors-${process.pid}`);
  let from = new Date(Math.floor(options.clock.now().getTime() / 1000) * 1000);
  let published = 0;
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const to = new Date(Math.floor(options.clock.now().getTime() / 1000) * 1000);
      if (to <= from) return;
      const report = await publishTelemetry(
        client,
        simulateTelemetry({
          seed: options.seed,
          from,
          to,
          rateHz: options.rateHz,
          badRatio: options.badRatio,
          ...(options.machineState ? { machineState: options.machineState } : {}),
        }),
        { qos: 1 },
      );
      published += report.published;
      from = to;
    } catch (error) {
      options.log.warn(
        { event: 'sensors.publish.failed', err: error },
        'simulated sensors could not publish; retrying next second',
      );
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), 1000);
  return {
    get published() {
      return published;
    },
    async stop() {
      clearInterval(timer);
      await client.endAsync();
    },
  };
}
