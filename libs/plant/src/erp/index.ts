export * from './ebs-tables.js';
export * from './erp-model.js';
