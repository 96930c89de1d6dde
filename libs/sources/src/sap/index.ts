/** SAP over RFC: the client interface, the BAPI connector and its runner. */
export * from './abap-types.js';
export * from './bapi-rows.js';
export * from './node-rfc.js';
export * from './rfc.js';
export * from './rfc-read-table.js';
export * from './run-sap-ingestion.js';
