import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { API_BASE_PATH, SUBSCRIPTION_KEY_HEADER } from './apim-policy.js';

/**
 * The OpenAPI document API Management imports. The api Function App generates the real one from its zod
 * schemas (`functions/api/openapi.json`); until that exists, a built-in document lists the endpoints of
 * ARCHITECTURE §4 so the gateway can be deployed and tested.
 */

/** `functions/api/openapi.json`, relative to this package (`src/` and `dist/` sit at the same depth). */
export const GENERATED_OPENAPI_URL = new URL('../../functions/api/openapi.json', import.meta.url);

const problem = { $ref: '#/components/responses/Problem' };
const json = (schema: object) => ({ 'application/json': { schema } });
const ok = (description: string, schema: object = { type: 'object' }) => ({
  '200': { description, content: json(schema) },
  '400': problem,
  '401': problem,
  '403': problem,
  '429': { description: 'Rate limit exceeded (1,000 calls per hour per subscription key)' },
});
const pathParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});
const listParams = [
  {
    name: 'cursor',
    in: 'query',
    required: false,
    schema: { type: 'string' },
    description: 'Opaque page cursor',
  },
  { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } },
  {
    name: 'fields',
    in: 'query',
    required: false,
    schema: { type: 'string' },
    description: 'Field selection',
  },
];

/** A minimal OpenAPI 3.1 document for the endpoints ARCHITECTURE §4 names, served under `/api/v1`. */
export function defaultOpenApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Aurora API',
      version: '1.0.0',
      description:
        'Plant KPIs, inventory alerts and quality reports. Built-in placeholder until functions/api generates its document.',
    },
    servers: [{ url: API_BASE_PATH }],
    security: [{ bearer: [] }],
    paths: {
      '/production/oee/{facility_id}': {
        get: {
          operationId: 'getProductionOee',
          summary: 'OEE for a facility (availability x performance x quality)',
          parameters: [
            pathParam('facility_id', 'augsburg, ingolstadt or regensburg'),
            { name: 'from', in: 'query', required: false, schema: { type: 'string', format: 'date' } },
            { name: 'to', in: 'query', required: false, schema: { type: 'string', format: 'date' } },
            {
              name: 'granularity',
              in: 'query',
              required: false,
              schema: { type: 'string', enum: ['hour', 'shift', 'day'] },
            },
          ],
          responses: ok('OEE figures'),
        },
      },
      '/inventory/alerts': {
        get: {
          operationId: 'listInventoryAlerts',
          summary: 'Materials below their reorder point',
          parameters: listParams,
          responses: ok('A page of inventory alerts'),
        },
      },
      '/quality/reports': {
        post: {
          operationId: 'createQualityReport',
          summary: 'File a quality report',
          requestBody: { required: true, content: json({ type: 'object' }) },
          responses: {
            '201': { description: 'Report accepted', content: json({ type: 'object' }) },
            '400': problem,
            '401': problem,
            '403': problem,
            '429': { description: 'Rate limit exceeded' },
          },
        },
      },
      '/machines/{machine_id}/health': {
        get: {
          operationId: 'getMachineHealth',
          summary: 'Current state and recent telemetry of one machine',
          parameters: [pathParam('machine_id', 'Machine id, e.g. aug-m01')],
          responses: ok('Machine health'),
        },
      },
      '/health': {
        get: {
          operationId: 'getHealth',
          summary: 'Liveness of the API',
          security: [],
          responses: { '200': { description: 'The API is up', content: json({ type: 'object' }) } },
        },
      },
      '/freshness': {
        get: {
          operationId: 'getFreshness',
          summary: 'Age of the newest data per source and layer',
          responses: ok('Freshness per dataset'),
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        subscriptionKey: { type: 'apiKey', in: 'header', name: SUBSCRIPTION_KEY_HEADER },
      },
      responses: {
        Problem: {
          description: 'RFC 9457 problem details',
          content: { 'application/problem+json': { schema: { type: 'object' } } },
        },
      },
    },
  };
}

/**
 * The document text to import: the generated file when present, else the built-in one. Reading happens
 * at composition time, once per `pulumi up`.
 */
export function readOpenApiDocument(url: URL = GENERATED_OPENAPI_URL): {
  source: 'generated' | 'built-in';
  text: string;
} {
  try {
    const text = readFileSync(fileURLToPath(url), 'utf8');
    JSON.parse(text);
    return { source: 'generated', text };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { source: 'built-in', text: `${JSON.stringify(defaultOpenApiDocument(), null, 2)}\n` };
    }
    throw new Error(`cannot use ${url.pathname} as the API's OpenAPI document: ${(error as Error).message}`);
  }
}
