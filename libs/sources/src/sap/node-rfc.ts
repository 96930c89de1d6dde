import { AuroraError, type SapConfig, type SecretProvider } from '@aurora/core';
import type { RfcClient, RfcPool } from './rfc.js';

/** The secret holding the RFC user's password (Key Vault name; AURORA_SAP_RFC_PASSWORD without a vault). */
export const SAP_PASSWORD_SECRET = 'sap-rfc-password';

/**
 * Loads node-rfc. It is imported only when SAP is configured, by whoever owns the dependency (the sap
 * Function App: `() => import('node-rfc')`), so that nothing else needs SAP's SDK to start.
 */
export type NodeRfcImporter = () => Promise<unknown>;

/** The part of node-rfc's module Aurora uses. */
interface NodeRfcModule {
  Pool: new (configuration: {
    connectionParameters: Record<string, string>;
    clientOptions?: Record<string, unknown>;
    poolOptions?: { low: number; high: number };
  }) => {
    acquire(): Promise<unknown>;
    release(client: unknown): Promise<unknown>;
    closeAll(): Promise<unknown>;
    readonly status: { ready: number; leased: number };
  };
}

const HOW_TO = 'see docs/sources/sap.md, "Installing node-rfc and the SAP NW RFC SDK"';

/** node-rfc or the SAP NW RFC SDK under it cannot be loaded: someone has to install them. */
export class SapClientUnavailableError extends AuroraError {
  constructor(message: string, cause: unknown) {
    super('config.invalid', message, { cause, details: { dependency: 'node-rfc' } });
  }
}

/**
 * Imports node-rfc and tells apart the two ways that fails on a machine without SAP's software: the package
 * is not installed, or it is but its native addon cannot load libsapnwrfc (the SDK is missing or not on the
 * library path).
 */
export async function loadNodeRfc(importNodeRfc: NodeRfcImporter): Promise<NodeRfcModule> {
  let module: unknown;
  try {
    module = await importNodeRfc();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const text = `${e?.code ?? ''} ${e?.message ?? String(error)}`;
    if (/sapnwrfc|sapucum|ERR_DLOPEN_FAILED/i.test(text))
      throw new SapClientUnavailableError(
        `SAP is configured but node-rfc cannot load the SAP NW RFC SDK (${firstLine(e?.message)}): install the SDK 7.50 (PL12 or later) from the SAP Support Portal, set SAPNWRFC_HOME to it and put $SAPNWRFC_HOME/lib on LD_LIBRARY_PATH; ${HOW_TO}`,
        error,
      );
    if (/MODULE_NOT_FOUND|Cannot find (package|module) 'node-rfc'/i.test(text))
      throw new SapClientUnavailableError(
        `SAP is configured but node-rfc is not installed: it needs SAP's NW RFC SDK (SAPNWRFC_HOME), which npm cannot fetch; install the SDK, then node-rfc@3.3.1 in functions/sap; ${HOW_TO}`,
        error,
      );
    throw new SapClientUnavailableError(
      `node-rfc could not be loaded: ${firstLine(e?.message)}; ${HOW_TO}`,
      error,
    );
  }
  const m = module as Partial<NodeRfcModule> & { default?: Partial<NodeRfcModule> };
  const Pool = m.Pool ?? m.default?.Pool;
  if (typeof Pool !== 'function')
    throw new SapClientUnavailableError(`the module loaded as node-rfc has no Pool; ${HOW_TO}`, undefined);
  return { Pool };
}

const firstLine = (text: string | undefined) => (text ?? '').split('\n')[0]?.trim() ?? '';

/**
 * A node-rfc Pool for the configured system, behind the RfcPool interface. The password is read from the
 * secret provider when the pool is made. Its managed clients are node-rfc Clients, which already satisfy
 * RfcClient in their promise form; the pool's `low`/`high` come from AURORA_SAP_POOL_LOW/_HIGH.
 */
export async function createNodeRfcPool(
  sap: SapConfig,
  deps: { secrets: SecretProvider; importNodeRfc: NodeRfcImporter },
): Promise<RfcPool> {
  const connection = sap.connection;
  if (!connection)
    throw new AuroraError(
      'config.invalid',
      'SAP is not configured: set AURORA_SAP_ASHOST or AURORA_SAP_DEST',
    );
  const { Pool } = await loadNodeRfc(deps.importNodeRfc);
  const passwd = await deps.secrets.get(SAP_PASSWORD_SECRET);
  const connectionParameters: Record<string, string> = {
    user: connection.user,
    passwd,
    lang: connection.lang,
    ...(connection.dest ? { dest: connection.dest } : {}),
    ...(connection.ashost ? { ashost: connection.ashost } : {}),
    ...(connection.sysnr ? { sysnr: connection.sysnr } : {}),
    ...(connection.client ? { client: connection.client } : {}),
  };
  const pool = new Pool({
    connectionParameters,
    // BCD stays a string (no float rounding before we type it); calls time out instead of hanging.
    clientOptions: { stateless: true, timeout: sap.timeoutS },
    poolOptions: { low: sap.pool.low, high: sap.pool.high },
  });
  return {
    acquire: async () => (await pool.acquire()) as RfcClient,
    release: (client) => pool.release(client),
    closeAll: () => pool.closeAll(),
    get status() {
      return pool.status;
    },
  };
}
