import { connectSensors, publishTelemetry, simulateTelemetry } from '@aurora/plant';

/** Bench helper, run as its own process: publishes N simulated messages (QoS 1) and prints the count. */
const [url, count, seed] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4] ?? 2)];
const from = new Date('2026-11-23T08:00:00Z');
const seconds = Math.ceil(count / 340 / 4);
function* limited() {
  let n = 0;
  for (const m of simulateTelemetry({
    seed,
    from,
    to: new Date(from.getTime() + seconds * 1000),
    rateHz: 4,
  })) {
    if (n++ === count) return;
    yield m;
  }
}
const messages = [...limited()];
const client = await connectSensors(url, `bench-publisher-${process.pid}`);
process.stdout.write('ready\n');
await new Promise((r) => process.stdin.once('data', r));
process.stdin.pause();
const report = await publishTelemetry(client, messages, { qos: 1, inFlight: 2000 });
await client.endAsync();
process.stdout.write(`published ${report.published}\n`);
process.exit(0);
