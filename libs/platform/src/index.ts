export * from './api.js';
export * from './live-sensors.js';
export * from './platform.js';
export * from './reconcile.js';
export * from './run-once.js';
export * from './storage.js';
