export * from './expectations.js';
export * from './lake-cache.js';
export * from './model.js';
export * from './project.js';
export * from './run.js';
export * from './synapse.js';
export * from './warehouse.js';
