export * from './audit.js';
export * from './envelope.js';
export * from './guardian.js';
export * from './kek.js';
export * from './key-table.js';
export * from './keyring.js';
export * from './open.js';
export * from './personal.js';
