export * from './continuations.js';
export * from './logminer-row.js';
export * from './scn.js';
export * from './sql-redo.js';
export * from './transactions.js';
