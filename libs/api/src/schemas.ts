import { z } from 'zod';

/** Ids in paths: lower-case letters, digits and dashes; anything else (dots, slashes, quotes) is a 400. */
export const facilityIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'a facility id: lower-case letters, digits and dashes, e.g. augsburg')
  .meta({ example: 'augsburg' });
export const machineIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a machine id: lower-case letters, digits and dashes, e.g. aug-m01')
  .meta({ example: 'aug-m01' });
export const materialIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'a material id, e.g. AUR-10044')
  .meta({ example: 'AUR-10044' });

/** An instant in a query: ISO 8601 with an offset (`2026-11-23T08:00:00Z`) or a date (its UTC midnight). */
export const instantParam = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).meta({
  description: 'ISO 8601 instant with offset, or a date (UTC midnight)',
  example: '2026-11-23T08:00:00Z',
});

export const isoInstant = z.string().meta({ format: 'date-time' });
export const isoDate = z.iso.date();
const ratio = z.number().min(0).max(1).nullable();

/** Summed times and counts with the ratios computed from the sums (docs/oee.md): never averaged ratios. */
export const oeeFiguresSchema = z
  .object({
    planned_time_s: z.number().min(0),
    run_time_s: z.number().min(0),
    ideal_output_s: z.number().min(0),
    total_count: z.number().int().min(0),
    good_count: z.number().int().min(0),
    scrap_count: z.number().int().min(0),
    availability: ratio,
    performance: ratio,
    quality: ratio,
    oee: ratio,
    hours: z.number().int().min(0).meta({ description: 'machine-hours of gold summed' }),
    is_complete: z
      .boolean()
      .meta({ description: 'every hour summed is complete (no later MES data can change it)' }),
  })
  .meta({ id: 'OeeFigures' });

export const paginationQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(100).meta({ description: 'page size, at most 500' }),
  cursor: z
    .string()
    .max(512)
    .regex(/^[A-Za-z0-9_-]+$/, 'an opaque cursor from next_cursor')
    .optional()
    .meta({ description: 'next_cursor of the previous page' }),
};

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z
      .string()
      .meta({ description: 'stable reason, e.g. token.expired, validation.failed, role.forbidden' }),
    errors: z
      .array(z.object({ in: z.string(), path: z.string(), code: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'validation issues (400)' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });
