import { createHash, randomBytes } from 'node:crypto';
import { type Clock, UsageError } from '@aurora/core';
import type { Lake } from '@aurora/lake';
import type { AuditLog } from './audit.js';
import { SEALED_PREFIX } from './envelope.js';
import { checkSubject, type KeyRing } from './keyring.js';
import { type Reader, revealRows } from './personal.js';

export type RequestType = 'access' | 'export' | 'delete';

/** Where Guardian looks for a subject's data: the warehouse of silver and gold, read-only. */
export interface SubjectSearch {
  /** Runs SQL over the warehouse (schemas silver and gold); rows as JSON objects. */
  query(sql: string): Promise<Record<string, unknown>[]>;
}

/** Everything about a subject: every silver and gold row holding one of its sealed values, opened. */
export interface SubjectData {
  subject: string;
  keyId: string;
  key: 'active' | 'erased' | 'none';
  tables: { table: string; rows: Record<string, unknown>[] }[];
}

export interface RequestRecord {
  id: string;
  type: RequestType;
  subject: string;
  keyId: string;
  receivedAt: string;
  dueBy: string;
  actor: string;
  through: string;
}

/** What was done for a request, with a SHA-256 over it (canonical JSON of `certificate`). */
export interface Certificate {
  certificate: RequestRecord & {
    completedAt: string;
    /** What Guardian did, in order, for people. */
    actions: string[];
    /** Rows found per table at the time of the request. */
    found: Record<string, number>;
    /** The subject's key after the request. */
    key: 'active' | 'erased' | 'none';
    /** SHA-256 of the export handed out (export requests). */
    exportSha256?: string;
  };
  sha256: string;
}

export interface RequestOutcome {
  request: RequestRecord;
  certificate: Certificate;
  /** The subject's data (access and export; empty after an erasure). */
  data: SubjectData;
}

export interface RequestStatus extends RequestRecord {
  completedAt?: string;
  state: 'open' | 'done' | 'overdue';
}

/** Canonical JSON: keys sorted at every level, so the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const REQUESTS = 'privacy/requests';
const CERTIFICATES = 'privacy/certificates';
const REQUEST_ID = /^dsr-\d{8}-[0-9a-f]{8}$/;

/**
 * Guardian: data-subject requests under GDPR. Access gathers everything about the subject across silver
 * and gold and opens it (audited); export is the same as one JSON document (portability); delete destroys
 * the subject's data key (crypto-shredding: every sealed copy, immutable bronze and its backups
 * included, becomes unreadable; silver and gold drop the values on the next medallion run). Each request
 * is recorded when received, with its deadline, and ends with a compliance certificate kept in the lake.
 */
export class Guardian {
  constructor(
    private readonly deps: {
      ring: KeyRing;
      audit: AuditLog;
      lake: Lake;
      clock: Clock;
      search: SubjectSearch;
      deadlineH: number;
    },
  ) {}

  access(subject: string, reader: Reader): Promise<RequestOutcome> {
    return this.#serve('access', subject, reader);
  }

  export(subject: string, reader: Reader): Promise<RequestOutcome> {
    return this.#serve('export', subject, reader);
  }

  delete(subject: string, reader: Reader): Promise<RequestOutcome> {
    return this.#serve('delete', subject, reader);
  }

  /** Everything about a subject, opened and audited (what access and export hand out). */
  async find(
    subject: string,
    reader: Reader,
    request: { id?: string; action?: 'access' | 'export' } = {},
  ): Promise<SubjectData> {
    const { ring, audit } = this.deps;
    const sealed = await this.#locate(subject);
    const opened: SubjectData['tables'] = [];
    for (const t of sealed.tables)
      opened.push({
        table: t.table,
        rows: await revealRows(t.rows, ring, audit, reader, {
          action: request.action ?? 'access',
          onlyKeyId: sealed.keyId,
          ...(request.id ? { requestId: request.id } : {}),
        }),
      });
    return { ...sealed, tables: opened };
  }

  /** The silver and gold rows holding a value sealed under the subject's key, as stored (still sealed). */
  async #locate(subject: string): Promise<SubjectData> {
    const { ring, search } = this.deps;
    const keyId = ring.keyIdOf(subject);
    const key = await ring.state(subject);
    const tables: SubjectData['tables'] = [];
    if (key !== 'none') {
      const columns = await search.query(
        `SELECT table_schema, table_name, column_name FROM information_schema.columns
         WHERE table_schema IN ('silver', 'gold') AND upper(data_type) IN ('VARCHAR', 'NVARCHAR')
         ORDER BY table_schema, table_name, ordinal_position`,
      );
      const byTable = new Map<string, string[]>();
      for (const c of columns) {
        const name = `${c['table_schema']}.${c['table_name']}`;
        byTable.set(name, [...(byTable.get(name) ?? []), String(c['column_name'])]);
      }
      // keyId is 22 base64url characters (checked by its derivation): safe inside a literal.
      const needle = `'%${SEALED_PREFIX}${keyId}.%'`;
      for (const [table, names] of byTable) {
        const where = names.map((n) => `"${n.replaceAll('"', '""')}" LIKE ${needle}`).join(' OR ');
        const [schema, name] = table.split('.') as [string, string];
        const rows = await search.query(`SELECT * FROM "${schema}"."${name}" WHERE ${where}`);
        if (rows.length > 0) tables.push({ table, rows });
      }
    }
    return { subject, keyId, key, tables };
  }

  async #serve(type: RequestType, subject: string, reader: Reader): Promise<RequestOutcome> {
    const { ring, lake, clock, deadlineH } = this.deps;
    checkSubject(subject);
    const received = clock.now();
    const request: RequestRecord = {
      id: `dsr-${received.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`,
      type,
      subject,
      keyId: ring.keyIdOf(subject),
      receivedAt: received.toISOString(),
      dueBy: new Date(received.getTime() + deadlineH * 3_600_000).toISOString(),
      actor: reader.actor,
      through: reader.through,
    };
    // Recorded first: a request that fails half-way still shows as open, with its deadline.
    await lake.put(`${REQUESTS}/${request.id}.json`, Buffer.from(JSON.stringify(request, null, 2)));

    const actions: string[] = [];
    // An erasure only counts what it makes unreadable: nothing is opened (nor audited) for it.
    const before =
      type === 'delete'
        ? await this.#locate(subject)
        : await this.find(subject, reader, { id: request.id, action: type });
    const found = Object.fromEntries(before.tables.map((t) => [t.table, t.rows.length]));
    let data = before;
    let exportSha256: string | undefined;
    if (type === 'access') {
      actions.push(
        `gathered ${count(found)} rows from ${before.tables.length} silver/gold tables and opened them`,
      );
    } else if (type === 'export') {
      exportSha256 = sha256(canonicalJson(exportDocument(before)));
      actions.push(`exported ${count(found)} rows as JSON (SHA-256 ${exportSha256})`);
    } else {
      const { destroyed } = await ring.destroy(subject, request.id);
      actions.push(
        destroyed
          ? `destroyed the data key ${request.keyId}: every sealed value of the subject in bronze, its backups, silver and gold is unreadable`
          : `no data key existed for ${request.keyId}; recorded a tombstone so that the subject's data is not collected`,
        `silver and gold values of the subject (${count(found)} rows now) are set to null by the next medallion run`,
      );
      data = { ...before, key: 'erased', tables: [] };
    }
    const body: Certificate['certificate'] = {
      ...request,
      completedAt: clock.now().toISOString(),
      actions,
      found,
      key: type === 'delete' ? 'erased' : before.key,
      ...(exportSha256 ? { exportSha256 } : {}),
    };
    const certificate: Certificate = { certificate: body, sha256: sha256(canonicalJson(body)) };
    await lake.put(
      `${CERTIFICATES}/${request.id}.json`,
      Buffer.from(`${JSON.stringify(certificate, null, 2)}\n`),
      { contentType: 'application/json' },
    );
    return { request, certificate, data };
  }

  /**
   * Checks a certificate: its SHA-256 matches its contents, the lake holds the same certificate under its
   * id, and for an erasure the subject's key is still destroyed. Returns the problems found (none = valid).
   */
  async verify(input: unknown): Promise<string[]> {
    const problems: string[] = [];
    const cert = input as Partial<Certificate>;
    if (
      !cert ||
      typeof cert !== 'object' ||
      typeof cert.sha256 !== 'string' ||
      !cert.certificate ||
      typeof cert.certificate !== 'object'
    )
      return ['not a certificate: expected {"certificate": {...}, "sha256": "..."}'];
    const computed = sha256(canonicalJson(cert.certificate));
    if (computed !== cert.sha256)
      problems.push(
        `SHA-256 mismatch: the contents hash to ${computed}, the certificate says ${cert.sha256}`,
      );
    const id = String(cert.certificate.id);
    if (!REQUEST_ID.test(id)) return [...problems, `"${id}" is not a request id`];
    let stored: Certificate | undefined;
    try {
      stored = JSON.parse((await this.deps.lake.get(`${CERTIFICATES}/${id}.json`)).toString('utf8'));
    } catch (error) {
      if ((error as { code?: string }).code !== 'lake.not_found') throw error;
    }
    if (!stored) problems.push(`the lake holds no certificate ${id}: not issued by this platform`);
    else if (stored.sha256 !== cert.sha256)
      problems.push(`the lake's certificate ${id} has SHA-256 ${stored.sha256}, not ${cert.sha256}`);
    if (cert.certificate.type === 'delete' && stored) {
      const state = await this.deps.ring.state(stored.certificate.subject);
      if (state !== 'erased') problems.push(`the subject's key is ${state}, not erased`);
    }
    return problems;
  }

  /** Every request with its deadline and whether it was completed in time. */
  async requests(): Promise<RequestStatus[]> {
    const { lake, clock } = this.deps;
    const now = clock.now().getTime();
    const out: RequestStatus[] = [];
    for await (const file of lake.list(`${REQUESTS}/`)) {
      const request = JSON.parse((await lake.get(file.path)).toString('utf8')) as RequestRecord;
      const done = await lake.stat(`${CERTIFICATES}/${request.id}.json`);
      const completedAt = done
        ? (JSON.parse((await lake.get(done.path)).toString('utf8')) as Certificate).certificate.completedAt
        : undefined;
      const late = (completedAt ? Date.parse(completedAt) : now) > Date.parse(request.dueBy);
      out.push({
        ...request,
        ...(completedAt ? { completedAt } : {}),
        state: late ? 'overdue' : completedAt ? 'done' : 'open',
      });
    }
    return out.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  }

  async certificate(id: string): Promise<Certificate> {
    if (!REQUEST_ID.test(id)) throw new UsageError(`"${id}" is not a request id (dsr-YYYYMMDD-xxxxxxxx)`);
    try {
      return JSON.parse((await this.deps.lake.get(`${CERTIFICATES}/${id}.json`)).toString('utf8'));
    } catch (error) {
      if ((error as { code?: string }).code === 'lake.not_found')
        throw new UsageError(`no certificate ${id}: \`aurora privacy requests\` lists them`);
      throw error;
    }
  }
}

const count = (found: Record<string, number>) => Object.values(found).reduce((a, b) => a + b, 0);

/** The portability export: the subject's rows per table, as one JSON document. */
export function exportDocument(data: SubjectData): Record<string, unknown> {
  return {
    subject: data.subject,
    tables: Object.fromEntries(data.tables.map((t) => [t.table, t.rows])),
  };
}
