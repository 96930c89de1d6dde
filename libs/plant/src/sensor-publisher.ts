import mqtt, { type MqttClient } from 'mqtt';
import type { SimulatedMessage } from './telemetry-simulator.js';

export interface PublishReport {
  published: number;
  bad: number;
}

/**
 * Simulated sensors on the wire: publishes each message to its topic on an MQTT broker. With QoS 1 the
 * returned promise resolves only after the broker acknowledged every message, so a caller knows exactly
 * what was handed over. At most `inFlight` messages are unacknowledged at once.
 */
export async function publishTelemetry(
  client: MqttClient,
  messages: Iterable<SimulatedMessage>,
  options: {
    qos?: 0 | 1;
    inFlight?: number;
    onProgress?: (published: number) => void;
    signal?: AbortSignal;
  } = {},
): Promise<PublishReport> {
  const qos = options.qos ?? 1;
  const limit = options.inFlight ?? 500;
  const report: PublishReport = { published: 0, bad: 0 };
  const pending = new Set<Promise<unknown>>();
  for (const message of messages) {
    if (options.signal?.aborted) break;
    const sent = client.publishAsync(message.topic, message.payload, { qos }).then(() => {
      pending.delete(sent);
    });
    pending.add(sent);
    report.published++;
    if (message.bad) report.bad++;
    if (report.published % 10_000 === 0) options.onProgress?.(report.published);
    if (pending.size >= limit) await Promise.race(pending);
  }
  await Promise.all(pending);
  return report;
}

/** Connects a sensor-side MQTT client (one connection stands for a sensor gateway). */
export function connectSensors(
  url: string,
  clientId = `aurora-sensors-${process.pid}-${Date.now()}`,
): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 1000, connectTimeout: 10_000 });
}
