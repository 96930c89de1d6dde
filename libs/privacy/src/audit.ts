import { randomBytes } from 'node:crypto';
import type { Clock } from '@aurora/core';
import { datePartitions, fileTimestamp, type Lake, putNew } from '@aurora/lake';

/** One read of personal data: who read which subject's data, when, through what. */
export interface AuditEntry {
  at: string;
  /** The caller: the token's `sub` (and name when it has one), or `cli:<os user>`. */
  actor: string;
  roles: readonly string[];
  /** `GET /api/v1/customers/contacts`, `aurora privacy access`, ... */
  through: string;
  /** The data subject's key id (the subject id itself is not logged: it may be a user name). */
  keyId: string;
  /** What happened: the values were decrypted (`read`), shown masked, or a request acted on them. */
  action: 'read' | 'access' | 'export' | 'delete';
  /** How many values were decrypted. */
  values: number;
  /** The data-subject request, when the read served one. */
  requestId?: string;
}

const AUDIT_PREFIX = 'audit/personal-data';

/**
 * The append-only audit log of personal-data reads, in the lake's `audit` container: each batch of
 * entries is a new JSON-lines file (`put` never overwrites; in Azure the container's immutability
 * policy forbids changing or deleting them). A read that cannot be audited does not happen: callers
 * record before they return the data.
 */
export class AuditLog {
  constructor(
    private readonly lake: Lake,
    private readonly clock: Clock,
  ) {}

  async record(entries: readonly Omit<AuditEntry, 'at'>[]): Promise<void> {
    if (entries.length === 0) return;
    const now = this.clock.now();
    const at = now.toISOString();
    const text = entries.map((e) => JSON.stringify({ at, ...e })).join('\n');
    const tag = randomBytes(4).toString('hex');
    await putNew(
      this.lake,
      (micros) => `${AUDIT_PREFIX}/${datePartitions(now)}/reads_${fileTimestamp(now, micros)}_${tag}.jsonl`,
      Buffer.from(`${text}\n`),
      { contentType: 'application/x-ndjson' },
    );
  }

  /** Entries oldest first, all of them or those of one key id. */
  async *entries(options: { keyId?: string } = {}): AsyncIterable<AuditEntry> {
    for await (const file of this.lake.list(`${AUDIT_PREFIX}/`)) {
      const text = (await this.lake.get(file.path)).toString('utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const entry = JSON.parse(line) as AuditEntry;
        if (options.keyId === undefined || entry.keyId === options.keyId) yield entry;
      }
    }
  }
}
