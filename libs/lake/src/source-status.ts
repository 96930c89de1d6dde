import { RestError, type TableClient } from '@azure/data-tables';
import { lazyTable } from './state-table.js';

/** What `aurora status` shows for one source. */
export interface SourceStatus {
  source: string;
  lastRunAt?: string;
  lastSuccessAt?: string;
  lastError?: string;
  lastRunRows: number;
  rowsLandedTotal: number;
  deadLetteredTotal: number;
  /** The newest event time landed, which freshness is measured from. */
  latestEventAt?: string;
}

export interface RunOutcome {
  source: string;
  at: Date;
  ok: boolean;
  rows: number;
  deadLettered: number;
  latestEventAt?: Date;
  error?: string;
}

export interface SourceStatusStore {
  record(outcome: RunOutcome): Promise<SourceStatus>;
  get(source: string): Promise<SourceStatus | undefined>;
  list(): Promise<SourceStatus[]>;
}

const PARTITION = 'sources';
/** The most of an error message the status keeps. */
export const MAX_STATUS_ERROR_CHARS = 4000;

const clip = (text: string) =>
  text.length <= MAX_STATUS_ERROR_CHARS
    ? text
    : `${text.slice(0, MAX_STATUS_ERROR_CHARS)}… (${text.length} characters)`;

/** Per-source run history in a Table, updated with optimistic concurrency (concurrent runners add up). */
export function createSourceStatusStore(client: TableClient): SourceStatusStore {
  const ensureTable = lazyTable(client);
  const read = async (source: string) => {
    try {
      const e = await client.getEntity<{ json: string }>(PARTITION, source);
      return { status: JSON.parse(e.json) as SourceStatus, etag: e.etag };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  };
  return {
    async record(outcome) {
      await ensureTable();
      for (;;) {
        const current = await read(outcome.source);
        const previous: SourceStatus = current?.status ?? {
          source: outcome.source,
          lastRunRows: 0,
          rowsLandedTotal: 0,
          deadLetteredTotal: 0,
        };
        const latest = [previous.latestEventAt, outcome.latestEventAt?.toISOString()]
          .filter((x): x is string => !!x)
          .sort()
          .at(-1);
        const next: SourceStatus = {
          ...previous,
          lastRunAt: outcome.at.toISOString(),
          lastRunRows: outcome.rows,
          rowsLandedTotal: previous.rowsLandedTotal + outcome.rows,
          deadLetteredTotal: previous.deadLetteredTotal + outcome.deadLettered,
          ...(outcome.ok ? { lastSuccessAt: outcome.at.toISOString() } : {}),
          ...(latest ? { latestEventAt: latest } : {}),
        };
        if (outcome.ok) delete next.lastError;
        // A table property holds 64 KiB: an error quoting a hostile source at length must not fail the run.
        else next.lastError = clip(outcome.error ?? 'failed');
        const entity = { partitionKey: PARTITION, rowKey: outcome.source, json: JSON.stringify(next) };
        try {
          if (current) await client.updateEntity(entity, 'Replace', { etag: current.etag });
          else await client.createEntity(entity);
          return next;
        } catch (error) {
          if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) continue;
          throw error;
        }
      }
    },
    async get(source) {
      await ensureTable();
      return (await read(source))?.status;
    },
    async list() {
      await ensureTable();
      const out: SourceStatus[] = [];
      for await (const e of client.listEntities<{ json: string }>({
        queryOptions: { filter: `PartitionKey eq '${PARTITION}'` },
      })) {
        out.push(JSON.parse(e.json) as SourceStatus);
      }
      return out.sort((a, b) => a.source.localeCompare(b.source));
    },
  };
}
