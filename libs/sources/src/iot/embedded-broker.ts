import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';

/**
 * What a broker keeps across a restart: its sessions, their subscriptions and the QoS 1 messages queued
 * for them, as a Mosquitto with `persistence true` keeps them in its database.
 */
export interface EmbeddedBrokerState {
  readonly persistence: unknown;
}

export interface EmbeddedBroker {
  url: string;
  port: number;
  /** Hand it to the next broker on this port to restart this one with its sessions. */
  state: EmbeddedBrokerState;
  close(): Promise<void>;
}

/**
 * An MQTT 3.1.1 broker in this process (Aedes), standing in for the Mosquitto on the plant's edge.
 * Set AURORA_MQTT_URL to use a real Mosquitto instead. Given the `state` of a broker that was closed, it
 * is that broker restarted: persistent sessions find their subscriptions and queued messages again.
 */
export async function startEmbeddedBroker(
  options: { host?: string; port?: number; state?: EmbeddedBrokerState } = {},
): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker(options.state ? { persistence: options.state.persistence } : {});
  const server: Server = createServer(broker.handle);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `mqtt://${host}:${port}`,
    port,
    // Aedes sets its persistence when it starts listening; its type declarations leave the field out.
    state: { persistence: (broker as unknown as { persistence: unknown }).persistence },
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
      }),
  };
}
