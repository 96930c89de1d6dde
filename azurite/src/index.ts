export * from './local-storage.js';
export * from './server.js';
