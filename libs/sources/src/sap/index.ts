/** SAP over RFC: the client interface, the BAPI connector and its runner. */
export {};
