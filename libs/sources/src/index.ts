export * from './iot/edge-bridge.js';
export * from './iot/embedded-broker.js';
export * from './iot/event-hub-batch.js';
export * from './iot/land-telemetry.js';
export * from './iot/telemetry-message.js';
