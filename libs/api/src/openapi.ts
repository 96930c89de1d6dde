import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { API_BASE_PATH, RATE_LIMIT_CALLS, SUBSCRIPTION_KEY_HEADER } from '@aurora/infra/apim-policy';
import { z } from 'zod';
import { ROLE_CLAIMS, ROLE_NAMES } from './auth.js';
import type { Endpoint } from './endpoint.js';
import { problemSchema } from './schemas.js';

const COMMON_ERRORS: Record<number, string> = {
  400: 'The request is not valid (problem details list the zod issues)',
  401: 'No token, or a malformed, expired, wrongly signed or wrong-issuer/audience token',
  403: 'The token lacks the role, or restricts the caller to another facility',
  406: 'The Accept header allows no type this operation answers',
  429: `More than ${RATE_LIMIT_CALLS} calls in the hour for this subscription key (see Retry-After)`,
  500: 'The API failed; the problem names an instance id to quote',
};
const ERROR_TEXT: Record<number, string> = {
  404: 'The facility, machine or data-subject request does not exist',
  413: 'The body is larger than 64 KiB',
  415: 'The body is not application/json',
  503: 'Gold is not available yet (no medallion run has finished), or personal data cannot be opened here',
};

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the endpoints validate requests and
 * responses with; API Management imports it (functions/api/openapi.json).
 */
export function openApiDocument(endpoints: readonly Endpoint[], version: string): Record<string, unknown> {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: `OAuth 2.0 bearer JWT (Entra ID in Azure, \`aurora token\` locally). Roles in the \`roles\` claim: ${Object.entries(
      ROLE_CLAIMS,
    )
      .map(([r, claim]) => `${claim} (${ROLE_NAMES[r as keyof typeof ROLE_NAMES]})`)
      .join(', ')}; a \`facility\` claim restricts the caller to that facility.`,
  });
  registry.registerComponent('securitySchemes', 'subscriptionKey', {
    type: 'apiKey',
    in: 'header',
    name: SUBSCRIPTION_KEY_HEADER,
  });
  const problem = (description: string) => ({
    description,
    content: { 'application/problem+json': { schema: problemSchema } },
  });
  for (const e of endpoints) {
    const statuses = new Set([
      ...(e.roles === 'anonymous' ? [400, 406, 429, 500] : Object.keys(COMMON_ERRORS).map(Number)),
      ...(e.errors ?? []),
      503,
    ]);
    const content: Record<string, { schema: z.ZodType }> = { 'application/json': { schema: e.response } };
    if (e.csv) content['text/csv'] = { schema: z.string() };
    registry.registerPath({
      method: e.method.toLowerCase() as 'get' | 'post',
      path: e.path,
      operationId: e.name,
      summary: e.summary,
      description:
        e.roles === 'anonymous'
          ? e.description
          : `${e.description}\n\nRoles: ${e.roles.map((r) => ROLE_NAMES[r]).join(', ')}.`,
      security: e.roles === 'anonymous' ? [] : [{ [bearer.name]: [] }],
      request: {
        ...(e.params ? { params: e.params as z.ZodObject } : {}),
        ...(e.query ? { query: e.query as z.ZodObject } : {}),
        ...(e.body ? { body: { required: true, content: { 'application/json': { schema: e.body } } } } : {}),
      },
      responses: {
        [e.successStatus ?? 200]: { description: e.successStatus === 201 ? 'Created' : 'OK', content },
        ...Object.fromEntries(
          [...statuses].sort().map((s) => [s, problem(COMMON_ERRORS[s] ?? ERROR_TEXT[s] ?? 'Error')]),
        ),
      },
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Aurora API',
      version,
      description:
        'Plant KPIs (OEE, machine health), inventory alerts, quality reports, customers, data-subject requests and platform freshness. Errors are RFC 9457 problem details. Personal data is plaintext only for Analysts and Platform Admins (each read audited) and masked for everyone else. Behind API Management: a subscription key, 1,000 calls per hour per key, GET answers cached for 5 minutes except those marked Cache-Control: no-store (personal data).',
    },
    servers: [{ url: API_BASE_PATH }],
    security: [{ bearer: [] }],
  }) as unknown as Record<string, unknown>;
}
