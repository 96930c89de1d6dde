import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectSensors, PlantModel, publishTelemetry, simulateTelemetry } from '@aurora/plant';

/**
 * Load helper, run as its own process (a plant's sensors are not the platform's): the simulated sensors as
 * `aurora start` runs them (libs/platform live-sensors: every second, the readings whose event time fell in
 * the second just passed, QoS 1, windows tiling so nothing is skipped or sent twice), with a stop that lets
 * the current second finish, so the count is exact. Prints `ready` once connected; on `go` (stdin) starts
 * and prints `published N behind S` every second (S: how far the published event times trail the clock);
 * on `stop` stops and prints the final line.
 */
const [url, rateHz, badRatio, seed] = [
  process.argv[2]!,
  Number(process.argv[3]),
  Number(process.argv[4]),
  Number(process.argv[5] ?? 1),
];
const plant = new PlantModel({ seed });
const client = await connectSensors(url, `aurora-load-sensors-${process.pid}`);
const second = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
let from = second(Date.now());
let published = 0;
let stopping = false;
const status = () => `published ${published} behind ${((Date.now() - from.getTime()) / 1000).toFixed(1)}\n`;

async function publishLive(): Promise<void> {
  from = second(Date.now());
  while (!stopping) {
    const to = second(Date.now());
    if (to > from) {
      const report = await publishTelemetry(
        client,
        simulateTelemetry({
          seed,
          from,
          to,
          rateHz,
          badRatio,
          machineState: (machine, atMs) => plant.stateAt(machine, atMs),
        }),
        { qos: 1 },
      );
      published += report.published;
      from = to;
    }
    await sleep(1000 - (Date.now() % 1000) + 5);
  }
}

process.stdout.write('ready\n');
let running: Promise<void> | undefined;
let reporting: NodeJS.Timeout | undefined;
for await (const command of createInterface({ input: process.stdin })) {
  if (command === 'go') {
    running = publishLive();
    reporting = setInterval(() => process.stdout.write(status()), 1000);
  } else if (command === 'stop') {
    clearInterval(reporting);
    stopping = true;
    await running;
    await client.endAsync();
    process.stdout.write(status());
    process.exit(0);
  }
}
