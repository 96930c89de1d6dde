/**
 * node-rfc, imported only when SAP is configured. It is not a declared dependency: it needs SAP's
 * proprietary NW RFC SDK, which no registry serves; the deployment installs both (docs/sources/sap.md).
 * The specifier is a variable so that neither TypeScript nor a bundler tries to resolve it at build time.
 */
const NODE_RFC = 'node-rfc';

export const importNodeRfc = (): Promise<unknown> => import(NODE_RFC);
