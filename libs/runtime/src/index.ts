export * from './azure.js';
export * from './function-table.js';
export * from './local-host.js';
export * from './route.js';
