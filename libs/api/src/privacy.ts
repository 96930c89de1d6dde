import { type AuroraConfig, AuroraError, type Clock, type SecretProvider } from '@aurora/core';
import { API_BASE_PATH } from '@aurora/infra/apim-policy';
import type { Lake, StorageClients } from '@aurora/lake';
import {
  type AuditLog,
  exportDocument,
  Guardian,
  type KeyRing,
  openPrivacy,
  type Reader,
  type RequestStatus,
  type SubjectSearch,
} from '@aurora/privacy';
import type { TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { type Principal, ROLE_CLAIMS, type Role } from './auth.js';
import type { ApiContext, ApiPrivacy } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { defineEndpoint, queryObjectSchema } from './endpoint.js';
import type { GoldReader } from './gold-reader.js';
import { ApiProblem } from './problem.js';
import { isoInstant, paginationQuery } from './schemas.js';
import { dialect } from './statement.js';

/** Data-subject requests are for Platform Admins alone (issue 8 §3). */
const ADMINS: readonly Role[] = ['platform-admin'];

/**
 * Guardian's search over the API's gold reader. Guardian writes DuckDB SQL (the catalogue query and one
 * `LIKE` per text column of silver and gold): locally the warehouse file holds both schemas and it runs
 * as written. The Synapse pool holds gold only (silver is not loaded into it) and keeps text as
 * NVARCHAR, so there the catalogue query asks for both character types and the search covers gold.
 */
export function goldReaderSearch(gold: GoldReader): SubjectSearch {
  return {
    query: (text) => gold.query(dialect({ duckdb: text, tsql: tsqlSubjectSearch(text) })),
  };
}

/** Guardian's catalogue query for T-SQL: Synapse stores text as NVARCHAR, DuckDB calls it VARCHAR. */
export const tsqlSubjectSearch = (text: string): string =>
  text.replaceAll("data_type = 'VARCHAR'", "data_type IN ('varchar', 'nvarchar')");

/** The API's privacy services: the key ring, the audit log and Guardian searching the API's gold reader. */
export function apiPrivacy(options: {
  ring: KeyRing;
  audit: AuditLog;
  lake: Lake;
  clock: Clock;
  gold: GoldReader;
  deadlineH: number;
}): ApiPrivacy {
  const { ring, audit, lake, clock, gold, deadlineH } = options;
  return {
    ring,
    audit,
    guardian: new Guardian({ ring, audit, lake, clock, search: goldReaderSearch(gold), deadlineH }),
  };
}

/**
 * The API's privacy services for a configuration: the key ring and audit log of `openPrivacy` (Key Vault
 * KEK when AURORA_PRIVACY_KEK is set, which needs `azure`; else the local key file under AURORA_HOME),
 * requests and certificates in the lake, Guardian searching `gold`.
 */
export async function openApiPrivacy(options: {
  config: Pick<AuroraConfig, 'home' | 'privacy' | 'secrets'>;
  storage: StorageClients;
  clock: Clock;
  gold: GoldReader;
  azure?: { credential: TokenCredential; secrets: SecretProvider };
}): Promise<ApiPrivacy> {
  const { config, storage, clock, gold, azure } = options;
  const { ring, audit } = await openPrivacy(config, storage, clock, azure);
  return apiPrivacy({ ring, audit, lake: storage.lake, clock, gold, deadlineH: config.privacy.deadlineH });
}

/** The caller as the audit log records it: the token's subject, its role claims, and the operation. */
export const auditReader = (principal: Principal, through: string): Reader => ({
  actor: principal.subject,
  roles: [...principal.roles].map((r) => ROLE_CLAIMS[r]),
  through,
});

export function requirePrivacy(ctx: ApiContext): ApiPrivacy {
  if (!ctx.privacy)
    throw new ApiProblem(
      503,
      'privacy.unavailable',
      'personal data cannot be opened here: this deployment has no key ring configured',
    );
  return ctx.privacy;
}

/**
 * A data subject's id as the API accepts it: `<kind>:<id in its system>` (`erp-party:50012`,
 * `sap-vendor:0000100003`, `sap-user:BUYER01`). System ids only: letters, digits and `. _ ~ -` after
 * the colon, so an e-mail address, a name with spaces or a path is refused before anything is recorded.
 */
export const subjectIdSchema = z
  .string()
  .max(240)
  .regex(
    /^[a-z][a-z0-9-]{1,39}:[A-Za-z0-9][A-Za-z0-9._~-]{0,199}$/,
    'a subject id: <kind>:<id in its system>, e.g. erp-party:50012 (a system id, never an e-mail address or a name)',
  )
  .meta({ example: 'erp-party:50012' });

export const requestIdSchema = z
  .string()
  .regex(/^dsr-\d{8}-[0-9a-f]{8}$/, 'a request id, dsr-YYYYMMDD-xxxxxxxx')
  .meta({ example: 'dsr-20261123-1a2b3c4d' });

const REQUEST_TYPES = ['access', 'export', 'delete'] as const;
const REQUEST_STATES = ['open', 'done', 'overdue'] as const;
const KEY_STATES = ['active', 'erased', 'none'] as const;

const requestRecordShape = {
  id: requestIdSchema,
  type: z.enum(REQUEST_TYPES),
  subject: z.string(),
  keyId: z.string().meta({ description: "the subject's pseudonymous key id (what the audit log names)" }),
  receivedAt: isoInstant,
  dueBy: isoInstant.meta({ description: 'receivedAt + AURORA_PRIVACY_DEADLINE_H (72 h)' }),
  actor: z.string().meta({ description: "who asked: the token's subject" }),
  through: z.string(),
};

export const privacyRequestSchema = z.object(requestRecordShape).meta({ id: 'PrivacyRequest' });

export const privacyRequestStatusSchema = z
  .object({
    ...requestRecordShape,
    completedAt: isoInstant.optional(),
    state: z.enum(REQUEST_STATES).meta({
      description:
        'done: certificate issued by dueBy; overdue: not completed by dueBy (or completed after it)',
    }),
  })
  .meta({ id: 'PrivacyRequestStatus' });

/**
 * The compliance certificate exactly as Guardian issued it. Loose objects: a field Guardian adds is passed
 * on, not dropped, so a client can always recompute the SHA-256 over what it received.
 */
export const certificateSchema = z
  .looseObject({
    certificate: z.looseObject({
      ...requestRecordShape,
      completedAt: isoInstant,
      actions: z.array(z.string()),
      found: z.record(z.string(), z.number().int()).meta({ description: 'rows found per table' }),
      key: z.enum(KEY_STATES).meta({ description: "the subject's key after the request" }),
      exportSha256: z.string().optional(),
    }),
    sha256: z
      .string()
      .meta({ description: 'SHA-256 (hex) of the canonical JSON of `certificate` (keys sorted)' }),
  })
  .meta({ id: 'ComplianceCertificate' });

const rowSchema = z.record(z.string(), z.unknown());

export const subjectDataSchema = z
  .object({
    subject: z.string(),
    keyId: z.string(),
    key: z.enum(KEY_STATES),
    tables: z.array(z.object({ table: z.string(), rows: z.array(rowSchema) })),
  })
  .meta({
    id: 'SubjectData',
    description:
      "every silver and gold row holding one of the subject's sealed values, opened (erased values read [erased])",
  });

export const privacyRequestBodySchema = z
  .strictObject({
    type: z.enum(REQUEST_TYPES).meta({
      description:
        'access: the data; export: the same as one portable JSON document; delete: crypto-shredding',
    }),
    subject: subjectIdSchema,
  })
  .meta({ id: 'PrivacyRequestBody' });

export const privacyOutcomeSchema = z
  .object({
    request: privacyRequestSchema,
    certificate: certificateSchema,
    data: subjectDataSchema.optional().meta({ description: 'access requests' }),
    export: z
      .object({ subject: z.string(), tables: z.record(z.string(), z.array(rowSchema)) })
      .optional()
      .meta({
        description:
          'export requests: the portable document, whose canonical JSON hashes to certificate.exportSha256',
      }),
  })
  .meta({ id: 'PrivacyRequestOutcome' });

export const privacyRequestsQuerySchema = queryObjectSchema({
  ...paginationQuery,
  state: z.enum(REQUEST_STATES).optional(),
  type: z.enum(REQUEST_TYPES).optional(),
});

export const privacyRequestsPageSchema = z
  .object({
    items: z.array(privacyRequestStatusSchema),
    limit: z.number().int(),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'PrivacyRequestPage' });

export const verifyBodySchema = z
  .strictObject({
    certificate: z.record(z.string(), z.unknown()).meta({
      description: 'a ComplianceCertificate as issued: {"certificate": {...}, "sha256": "..."}',
    }),
  })
  .meta({ id: 'VerifyCertificateBody' });

export const verifyResultSchema = z
  .object({ valid: z.boolean(), problems: z.array(z.string()) })
  .meta({ id: 'CertificateVerification' });

const through = (method: string, path: string) => `${method} ${API_BASE_PATH}${path}`;

/** POST /privacy/requests: access, export or delete a data subject's data; answers with the certificate. */
export const privacyRequestEndpoint = (ctx: ApiContext) =>
  defineEndpoint({
    name: 'createPrivacyRequest',
    method: 'POST',
    path: '/privacy/requests',
    summary: 'A data-subject request: access, export (portability) or delete (erasure)',
    description:
      "Guardian serves the request at once: the request is recorded with its 72-hour deadline, the subject's rows are gathered from silver and gold (the Synapse pool in Azure holds gold only) and opened, each opening audited; delete destroys the subject's data key (crypto-shredding). The answer carries the request, its compliance certificate (SHA-256 over its contents) and, for access and export, the data.",
    roles: ADMINS,
    body: privacyRequestBodySchema,
    response: privacyOutcomeSchema,
    successStatus: 201,
    noStore: true,
    async handle({ body, principal }) {
      const { guardian } = requirePrivacy(ctx);
      const reader = auditReader(principal!, through('POST', '/privacy/requests'));
      const outcome = await guardian[body.type](body.subject, reader);
      return {
        request: outcome.request,
        certificate: outcome.certificate,
        ...(body.type === 'access' ? { data: outcome.data } : {}),
        ...(body.type === 'export' ? { export: exportDocument(outcome.data) } : {}),
      };
    },
  });

/** GET /privacy/requests: every request with its deadline and state, oldest first, in keyset pages. */
export const privacyRequestsEndpoint = (ctx: ApiContext) =>
  defineEndpoint({
    name: 'listPrivacyRequests',
    method: 'GET',
    path: '/privacy/requests',
    summary: 'Data-subject requests with their deadlines: open, done or overdue',
    description:
      'Every request Guardian recorded (API and `aurora privacy`), ordered by (receivedAt, id). `state`: done when its certificate was issued by the deadline, overdue when it was not, open while it may still be.',
    roles: ADMINS,
    query: privacyRequestsQuerySchema,
    response: privacyRequestsPageSchema,
    noStore: true,
    async handle({ query }) {
      const { guardian } = requirePrivacy(ctx);
      const after = query.cursor ? (decodeCursor(query.cursor, 2) as [string, string]) : undefined;
      const key = (r: RequestStatus) => [r.receivedAt, r.id] as const;
      const isAfter = (r: RequestStatus) =>
        !after || key(r)[0] > after[0] || (key(r)[0] === after[0] && key(r)[1] > after[1]);
      const rows = (await guardian.requests())
        .filter((r) => (!query.state || r.state === query.state) && (!query.type || r.type === query.type))
        .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.id.localeCompare(b.id))
        .filter(isAfter);
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page,
        limit: query.limit,
        next_cursor: rows.length > query.limit && last ? encodeCursor([...key(last)]) : null,
      };
    },
  });

/** GET /privacy/requests/{id}/certificate: the certificate kept in the lake. */
export const privacyCertificateEndpoint = (ctx: ApiContext) =>
  defineEndpoint({
    name: 'getPrivacyCertificate',
    method: 'GET',
    path: '/privacy/requests/{id}/certificate',
    summary: "A request's compliance certificate",
    description: 'The certificate as issued and kept in the lake (privacy/certificates/<id>.json).',
    roles: ADMINS,
    params: z.strictObject({ id: requestIdSchema }),
    response: certificateSchema,
    errors: [404],
    noStore: true,
    async handle({ params }) {
      const { guardian } = requirePrivacy(ctx);
      try {
        return await guardian.certificate(params.id);
      } catch (error) {
        if (error instanceof AuroraError && error.code === 'usage.invalid')
          throw new ApiProblem(
            404,
            'certificate.not_found',
            `no certificate ${params.id}: GET /api/v1/privacy/requests lists the requests`,
          );
        throw error;
      }
    },
  });

/** POST /privacy/certificates/verify: whether a certificate is intact and was issued here. */
export const verifyCertificateEndpoint = (ctx: ApiContext) =>
  defineEndpoint({
    name: 'verifyPrivacyCertificate',
    method: 'POST',
    path: '/privacy/certificates/verify',
    summary: 'Verify a compliance certificate',
    description:
      "Valid when its SHA-256 matches its contents, the lake holds the same certificate under its id, and for an erasure the subject's key is still destroyed; otherwise `problems` says what failed. The same check as `aurora privacy verify`.",
    roles: ADMINS,
    body: verifyBodySchema,
    response: verifyResultSchema,
    noStore: true,
    async handle({ body }) {
      const { guardian } = requirePrivacy(ctx);
      const problems = await guardian.verify(body.certificate);
      return { valid: problems.length === 0, problems };
    },
  });
