export * from './clock.js';
export * from './config.js';
export * from './errors.js';
export * from './file-secrets.js';
export * from './key-vault-secrets.js';
export * from './logger.js';
export * from './retry.js';
export * from './secrets.js';
