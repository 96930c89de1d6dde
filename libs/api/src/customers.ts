import { API_BASE_PATH } from '@aurora/infra/apim-policy';
import { isSealed, type KeyRing, MASKED, maskRows, revealRows, sealedKeyId } from '@aurora/privacy';
import { z } from 'zod';
import { canSeePersonalData, type Role } from './auth.js';
import type { ApiContext } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { defineEndpoint, queryObjectSchema } from './endpoint.js';
import type { GoldRow } from './gold-reader.js';
import { auditReader, requirePrivacy } from './privacy.js';
import { ApiProblem } from './problem.js';
import { paginationQuery } from './schemas.js';
import { ident, join, limit, type Statement, sql } from './statement.js';

export const CUSTOMER_FIELDS = [
  'cust_account_id',
  'account_number',
  'name',
  'country',
  'contact_party_id',
  'contact_first_name',
  'contact_last_name',
  'contact_email',
  'contact_phone',
] as const;
type CustomerField = (typeof CUSTOMER_FIELDS)[number];

/** The contact person's columns: sealed in gold, opened or masked per caller. */
export const CUSTOMER_PERSONAL_FIELDS: readonly CustomerField[] = [
  'contact_first_name',
  'contact_last_name',
  'contact_email',
  'contact_phone',
];

const personal = (description: string) =>
  z
    .string()
    .nullable()
    .meta({
      description: `${description}: personal data — plaintext for Analysts and Platform Admins (each read audited), "${MASKED}" for other roles, "[erased]" after the subject's erasure`,
    });

export const customerSchema = z
  .object({
    cust_account_id: z.string(),
    account_number: z.string(),
    name: z.string().meta({ description: 'the organisation' }),
    country: z.string().nullable().meta({ description: 'ISO 3166-1 alpha-2' }),
    contact_party_id: z
      .string()
      .nullable()
      .meta({ description: 'the contact person (data subject `erp-party:<id>`)' }),
    contact_first_name: personal('first name'),
    contact_last_name: personal('last name'),
    contact_email: personal('e-mail address'),
    contact_phone: personal('phone number'),
  })
  .partial()
  .meta({
    id: 'Customer',
    description: 'a customer account with its contact person; only the `fields` asked for',
  });

export const customersResponseSchema = z
  .object({
    items: z.array(customerSchema),
    limit: z.number().int(),
    next_cursor: z
      .string()
      .nullable()
      .meta({ description: 'pass as `cursor` for the next page; null on the last' }),
    personal_data: z.enum(['plaintext', 'masked']).meta({
      description:
        "how this caller's personal values are shown (by role: Analyst and Platform Admin see plaintext)",
    }),
  })
  .meta({ id: 'CustomerPage' });

export const customersQuerySchema = queryObjectSchema({
  ...paginationQuery,
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code, e.g. DE')
    .optional()
    .meta({ example: 'DE' }),
  fields: z
    .string()
    .max(256)
    .optional()
    .meta({ description: `comma-separated subset of ${CUSTOMER_FIELDS.join(', ')}` }),
});

const READERS: readonly Role[] = ['platform-admin', 'data-engineer', 'analyst', 'viewer'];
const THROUGH = `GET ${API_BASE_PATH}/customers`;

function parseFields(fields: string | undefined): CustomerField[] {
  if (!fields) return [...CUSTOMER_FIELDS];
  const asked = fields.split(',').map((f) => f.trim());
  const unknown = asked.filter((f) => !(CUSTOMER_FIELDS as readonly string[]).includes(f));
  if (unknown.length > 0)
    throw new ApiProblem(400, 'validation.failed', `unknown fields: ${unknown.join(', ')}`, {
      errors: [
        {
          in: 'query',
          path: 'fields',
          code: 'invalid_value',
          message: `allowed: ${CUSTOMER_FIELDS.join(', ')}`,
        },
      ],
    });
  return [...new Set(asked)] as CustomerField[];
}

/**
 * Every personal column masked, sealed or not: a value that reached gold unsealed (landing not yet
 * encrypting a source) is still not shown to a role without personal data.
 */
const maskPersonal = (rows: readonly GoldRow[]): GoldRow[] =>
  maskRows(rows).map((row) => {
    const out = { ...row };
    for (const f of CUSTOMER_PERSONAL_FIELDS) if (out[f] !== undefined && out[f] !== null) out[f] = MASKED;
    return out;
  });

/**
 * Unwraps the data keys of a page's subjects a few at a time before revealRows opens the page value by
 * value: in Azure each key is a Key Vault unwrapKey call, so a cold page of 500 subjects would otherwise
 * wait for 500 calls in a row. The ring keeps the keys for revealRows; nothing is shown here.
 */
async function loadKeys(ring: KeyRing, rows: readonly GoldRow[], concurrency = 8): Promise<void> {
  const oneValueOf = new Map<string, string>();
  for (const row of rows)
    for (const value of Object.values(row)) {
      const keyId = isSealed(value) ? sealedKeyId(value) : undefined;
      if (keyId && !oneValueOf.has(keyId)) oneValueOf.set(keyId, value as string);
    }
  const queue = [...oneValueOf.values()];
  const worker = async () => {
    for (let value = queue.pop(); value !== undefined; value = queue.pop()) await ring.open(value);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
}

/**
 * GET /customers: gold.dim_customer in keyset pages on cust_account_id. Customers are company-wide, so the
 * facility claim does not filter them. The contact person's values are opened for roles allowed personal
 * data (the audit entries are written before the answer leaves) and masked for everyone else; only the
 * values of the page and the fields asked for are opened.
 */
export const customersEndpoint = (ctx: ApiContext) =>
  defineEndpoint({
    name: 'listCustomers',
    method: 'GET',
    path: '/customers',
    summary: 'Customer accounts with their contact person (personal data by role)',
    description:
      'gold.dim_customer in pages ordered by cust_account_id, filtered by `country`. Customers are company-wide: a facility claim does not restrict them. The contact columns are personal data: Analysts and Platform Admins get them decrypted, each subject read written to the audit log before the answer is sent; Data Engineers and Viewers get "•••". Answers are `Cache-Control: no-store`.',
    roles: READERS,
    query: customersQuerySchema,
    response: customersResponseSchema,
    noStore: true,
    async handle({ query, principal }) {
      const fields = parseFields(query.fields);
      const plaintext = principal !== undefined && canSeePersonalData(principal);
      // Resolved before gold is read, so a deployment without a key ring fails before any data moves.
      const privacy = plaintext ? requirePrivacy(ctx) : undefined;
      const conditions: Statement[] = [];
      if (query.country) conditions.push(sql`country = ${query.country}`);
      if (query.cursor) {
        const [after] = decodeCursor(query.cursor, 1) as [string];
        conditions.push(sql`cust_account_id > ${after}`);
      }
      const where = conditions.length > 0 ? sql` WHERE ${join(conditions, ' AND ')}` : sql``;
      const rows = await ctx.gold.query(
        sql`SELECT ${join(
          CUSTOMER_FIELDS.map((f) => ident(f)),
          ', ',
        )} FROM gold.dim_customer${where} ORDER BY cust_account_id${limit(query.limit + 1)}`,
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const selected = page.map(
        (row) => Object.fromEntries(fields.map((f) => [f, row[f] ?? null])) as GoldRow,
      );
      if (privacy) await loadKeys(privacy.ring, selected);
      const items = privacy
        ? await revealRows(selected, privacy.ring, privacy.audit, auditReader(principal!, THROUGH))
        : maskPersonal(selected);
      return {
        items,
        limit: query.limit,
        next_cursor:
          rows.length > query.limit && last ? encodeCursor([String(last['cust_account_id'])]) : null,
        personal_data: plaintext ? ('plaintext' as const) : ('masked' as const),
      };
    },
  });
