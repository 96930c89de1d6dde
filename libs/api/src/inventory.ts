import { z } from 'zod';
import type { Role } from './auth.js';
import type { ApiContext } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { defineEndpoint, queryObjectSchema } from './endpoint.js';
import { ApiProblem } from './problem.js';
import { facilityIdSchema, isoDate, materialIdSchema, paginationQuery } from './schemas.js';
import { ident, join, limit, type Statement, sql } from './statement.js';

export const ALERT_FIELDS = [
  'facility_id',
  'material_id',
  'snapshot_date',
  'unrestricted_qty',
  'min_stock',
  'shortfall',
  'days_of_cover',
  'severity',
] as const;
type AlertField = (typeof ALERT_FIELDS)[number];
const SEVERITIES = ['critical', 'high', 'medium'] as const;

export const inventoryAlertSchema = z
  .object({
    facility_id: z.string(),
    material_id: z.string(),
    snapshot_date: isoDate,
    unrestricted_qty: z.number(),
    min_stock: z.number(),
    shortfall: z.number().min(0),
    days_of_cover: z
      .number()
      .nullable()
      .meta({ description: "days the stock lasts at the last 7 days' issue rate" }),
    severity: z.enum(SEVERITIES),
  })
  .partial()
  .meta({
    id: 'InventoryAlert',
    description: 'a material below its minimum stock; only the `fields` asked for',
  });

export const inventoryAlertsResponseSchema = z
  .object({
    items: z.array(inventoryAlertSchema),
    limit: z.number().int(),
    next_cursor: z
      .string()
      .nullable()
      .meta({ description: 'pass as `cursor` for the next page; null on the last' }),
  })
  .meta({ id: 'InventoryAlertPage' });

export const inventoryAlertsQuerySchema = queryObjectSchema({
  ...paginationQuery,
  facility_id: facilityIdSchema.optional(),
  severity: z.enum(SEVERITIES).optional(),
  material_id: materialIdSchema.optional(),
  fields: z
    .string()
    .max(256)
    .optional()
    .meta({ description: `comma-separated subset of ${ALERT_FIELDS.join(', ')}` }),
});

const READERS: readonly Role[] = ['platform-admin', 'data-engineer', 'analyst', 'viewer'];

function parseFields(fields: string | undefined): AlertField[] {
  if (!fields) return [...ALERT_FIELDS];
  const asked = fields.split(',').map((f) => f.trim());
  const unknown = asked.filter((f) => !(ALERT_FIELDS as readonly string[]).includes(f));
  if (unknown.length > 0 || asked.length === 0)
    throw new ApiProblem(400, 'validation.failed', `unknown fields: ${unknown.join(', ')}`, {
      errors: [
        {
          in: 'query',
          path: 'fields',
          code: 'invalid_value',
          message: `allowed: ${ALERT_FIELDS.join(', ')}`,
        },
      ],
    });
  return [...new Set(asked)] as AlertField[];
}

/** GET /inventory/alerts: keyset pages on (facility_id, material_id), filtered to the caller's facilities. */
export const inventoryAlertsEndpoint = (ctx: ApiContext) =>
  defineEndpoint({
    name: 'listInventoryAlerts',
    method: 'GET',
    path: '/inventory/alerts',
    summary: 'Materials below their minimum stock, per facility (latest snapshot)',
    description:
      'gold.inventory_alerts in pages ordered by (facility_id, material_id). A caller restricted to facilities sees only theirs; asking for another facility is a 403.',
    roles: READERS,
    query: inventoryAlertsQuerySchema,
    response: inventoryAlertsResponseSchema,
    async handle({ query, principal }) {
      const fields = parseFields(query.fields);
      const conditions: Statement[] = [];
      if (query.facility_id) {
        if (principal && principal.facilities !== 'all' && !principal.facilities.includes(query.facility_id))
          throw new ApiProblem(
            403,
            'facility.forbidden',
            `your token does not grant facility "${query.facility_id}"`,
          );
        conditions.push(sql`facility_id = ${query.facility_id}`);
      }
      if (principal && principal.facilities !== 'all') {
        if (principal.facilities.length === 0) return { items: [], limit: query.limit, next_cursor: null };
        conditions.push(
          sql`facility_id IN (${join(
            principal.facilities.map((f) => sql`${f}`),
            ', ',
          )})`,
        );
      }
      if (query.severity) conditions.push(sql`severity = ${query.severity}`);
      if (query.material_id) conditions.push(sql`material_id = ${query.material_id}`);
      if (query.cursor) {
        const [facility, material] = decodeCursor(query.cursor, 2) as [string, string];
        conditions.push(
          sql`(facility_id > ${facility} OR (facility_id = ${facility} AND material_id > ${material}))`,
        );
      }
      const where = conditions.length > 0 ? sql` WHERE ${join(conditions, ' AND ')}` : sql``;
      const rows = await ctx.gold.query(
        sql`SELECT ${join(
          ALERT_FIELDS.map((f) => ident(f)),
          ', ',
        )} FROM gold.inventory_alerts${where} ORDER BY facility_id, material_id${limit(query.limit + 1)}`,
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => Object.fromEntries(fields.map((f) => [f, row[f] ?? null]))),
        limit: query.limit,
        next_cursor:
          rows.length > query.limit && last
            ? encodeCursor([String(last['facility_id']), String(last['material_id'])])
            : null,
      };
    },
  });
