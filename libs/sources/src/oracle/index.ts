export * from './logminer/index.js';
