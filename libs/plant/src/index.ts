export * from './catalogue.js';
export * from './random.js';
export * from './sensor-publisher.js';
export * from './telemetry-simulator.js';
