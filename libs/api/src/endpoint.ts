import type { Logger } from '@aurora/core';
import { z } from 'zod';
import type { Principal, Role, TokenVerifier } from './auth.js';
import { ApiProblem, toApiProblem, validationProblem } from './problem.js';

/** What an endpoint needs of an HTTP request; @azure/functions' HttpRequest has exactly this shape. */
export interface ApiRequest {
  method: string;
  url: string;
  headers: { get(name: string): string | null };
  params: Record<string, string>;
  query: URLSearchParams;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** What an endpoint answers; a valid @azure/functions HttpResponseInit. */
export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface EndpointInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Undefined only on anonymous endpoints. */
  principal: Principal | undefined;
}

/**
 * One operation of the API: its route, who may call it, the zod schemas its input is validated with and
 * its output is checked against (the same schemas the OpenAPI document is generated from), and the
 * handler.
 */
export interface Endpoint<P = unknown, Q = unknown, B = unknown, R = unknown> {
  name: string;
  method: 'GET' | 'POST';
  /** OpenAPI-style path under /api/v1, e.g. `/machines/{machine_id}/health`. */
  path: string;
  summary: string;
  description: string;
  /** Roles allowed; `anonymous` needs no token. */
  roles: readonly Role[] | 'anonymous';
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  response: z.ZodType<R>;
  /** Error statuses the operation documents beyond the common ones. */
  errors?: readonly number[];
  /** Renders the response as CSV when the client asks for text/csv. */
  csv?: (result: R) => string;
  /** The status of a successful answer: 200, or 201 when the operation records something (a request). */
  successStatus?: 200 | 201;
  /**
   * Answers are personal data (or name data subjects): sent `Cache-Control: no-store`, which the local
   * gateway honours, so every read reaches the handler and its audit entry.
   */
  noStore?: boolean;
  handle(input: EndpointInput<P, Q, B>): Promise<R>;
}

/** Declares an endpoint with its types inferred from its schemas. */
export const defineEndpoint = <P, Q, B, R>(e: Endpoint<P, Q, B, R>): Endpoint => e as unknown as Endpoint;

export interface EndpointRuntime {
  verify: TokenVerifier;
  log: Logger;
  /** Largest request body accepted (bytes). */
  maxBodyBytes?: number;
  /** Deepest JSON nesting accepted in a body. */
  maxBodyDepth?: number;
}

const JSON_TYPE = 'application/json';
const PROBLEM_TYPE = 'application/problem+json';
const CSV_TYPE = 'text/csv';

/** The problem as a response. */
export function problemResponse(problem: ApiProblem, instance?: string): ApiResponse {
  return {
    status: problem.status,
    headers: { 'content-type': PROBLEM_TYPE, 'cache-control': 'no-store', ...problem.headers },
    body: JSON.stringify(problem.toProblem(instance)),
  };
}

/**
 * Runs one request through an endpoint: authenticate and authorise, negotiate the media type, validate
 * path, query and body, handle, check the response against its schema, and map every failure to an RFC
 * 9457 problem (a 500 names only the invocation; the cause goes to the log).
 */
export async function runEndpoint(
  endpoint: Endpoint,
  runtime: EndpointRuntime,
  request: ApiRequest,
  invocationId: string,
): Promise<ApiResponse> {
  const instance = `urn:aurora:invocation:${invocationId}`;
  try {
    let principal: Principal | undefined;
    if (endpoint.roles !== 'anonymous') {
      principal = await runtime.verify(request.headers.get('authorization') ?? undefined);
      const allowed = endpoint.roles;
      if (!allowed.some((r) => principal!.roles.has(r)))
        throw new ApiProblem(
          403,
          'role.forbidden',
          `this operation needs one of the roles: ${allowed.join(', ')}`,
        );
    }
    const mediaType = negotiate(
      request.headers.get('accept'),
      endpoint.csv ? [JSON_TYPE, CSV_TYPE] : [JSON_TYPE],
    );
    const params = parse(endpoint.params, request.params, 'path');
    const query = parse(endpoint.query, queryObject(request.query), 'query');
    const body = endpoint.body
      ? parse(endpoint.body, await readJsonBody(request, runtime), 'body')
      : undefined;
    const result = await endpoint.handle({ params, query, body, principal });
    const known = checkedAnswer(endpoint, result);
    const checked = known ?? endpoint.response.safeParse(result);
    if (!checked.success) {
      runtime.log.error(
        { event: 'api.response.invalid', endpoint: endpoint.name, issues: checked.error.issues.slice(0, 5) },
        `${endpoint.name} produced a response outside its schema`,
      );
      throw new ApiProblem(
        500,
        'internal',
        'the request failed inside the API; quote the instance id when reporting it',
      );
    }
    const headers: Record<string, string> = {
      vary: 'Accept, Authorization',
      'cache-control': endpoint.noStore ? 'no-store' : 'private, max-age=300',
    };
    const status = endpoint.successStatus ?? 200;
    if (mediaType === CSV_TYPE && endpoint.csv)
      return {
        status,
        headers: { ...headers, 'content-type': 'text/csv; charset=utf-8' },
        body: endpoint.csv(checked.data),
      };
    let json = known?.json;
    if (json === undefined) {
      json = JSON.stringify(checked.data);
      if (isFrozenObject(result))
        rememberAnswer(endpoint, result, { success: true, data: checked.data, json });
    }
    return { status, headers: { ...headers, 'content-type': JSON_TYPE }, body: json };
  } catch (error) {
    const problem = toApiProblem(error);
    if (problem.status >= 500)
      runtime.log.error(
        { event: 'api.request.failed', endpoint: endpoint.name, invocationId, err: error },
        `${endpoint.name} failed`,
      );
    return problemResponse(problem, instance);
  }
}

interface CheckedAnswer {
  success: true;
  data: unknown;
  json: string;
}

/**
 * Memoized answers (GoldMemo's, deep-frozen, the same object for every caller) are checked against the
 * response schema and serialised once per endpoint; anything not frozen is checked every time.
 */
const checkedAnswers = new WeakMap<Endpoint, WeakMap<object, CheckedAnswer>>();
const isFrozenObject = (value: unknown): value is object =>
  typeof value === 'object' && value !== null && Object.isFrozen(value);
const checkedAnswer = (endpoint: Endpoint, result: unknown): CheckedAnswer | undefined =>
  isFrozenObject(result) ? checkedAnswers.get(endpoint)?.get(result) : undefined;
function rememberAnswer(endpoint: Endpoint, result: object, answer: CheckedAnswer): void {
  const answers = checkedAnswers.get(endpoint) ?? new WeakMap<object, CheckedAnswer>();
  checkedAnswers.set(endpoint, answers);
  answers.set(result, answer);
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: 'path' | 'query' | 'body'): T {
  if (!schema) return undefined as T;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationProblem(where, parsed.error);
  return parsed.data;
}

/** Query parameters as an object; a repeated parameter is ambiguous and refused. */
function queryObject(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of new Set(query.keys())) {
    if (query.getAll(key).length > 1)
      throw new ApiProblem(400, 'validation.failed', `query parameter "${key}" is given more than once`);
    out[key] = query.get(key)!;
  }
  return out;
}

/**
 * Picks the response type from Accept: JSON when there is none or it allows anything, else the first
 * offered type the client accepts (ignoring q=0). Nothing acceptable is a 406.
 */
export function negotiate(accept: string | null, offered: readonly string[]): string {
  if (!accept?.trim()) return offered[0]!;
  const ranges = accept
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return { type, q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((r) => r.type && !(r.q <= 0))
    .sort((a, b) => b.q - a.q);
  for (const range of ranges) {
    if (range.type === '*/*') return offered[0]!;
    const hit = offered.find(
      (o) =>
        o === range.type ||
        (range.type.endsWith('/*') && o.startsWith(range.type.slice(0, -1))) ||
        (range.type === PROBLEM_TYPE && o === JSON_TYPE),
    );
    if (hit) return hit;
  }
  throw new ApiProblem(406, 'media_type.not_acceptable', `this operation answers ${offered.join(' or ')}`);
}

async function readJsonBody(request: ApiRequest, runtime: EndpointRuntime): Promise<unknown> {
  const limit = runtime.maxBodyBytes ?? 64 * 1024;
  const contentType = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== JSON_TYPE)
    throw new ApiProblem(415, 'media_type.unsupported', 'send the body as application/json');
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit)
    throw new ApiProblem(413, 'body.too_large', `request bodies are limited to ${limit} bytes`);
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > limit)
    throw new ApiProblem(413, 'body.too_large', `request bodies are limited to ${limit} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ApiProblem(400, 'body.malformed', 'the body is not UTF-8');
  }
  const maxDepth = runtime.maxBodyDepth ?? 16;
  if (jsonDepth(text) > maxDepth)
    throw new ApiProblem(400, 'body.too_deep', `the body nests deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiProblem(400, 'body.malformed', 'the body is not valid JSON');
  }
}

/** The deepest nesting of objects and arrays in JSON text, counted without parsing it (strings skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) max = Math.max(max, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/** A zod object for query strings that refuses unknown parameters (each one a typo or a probe). */
export const queryObjectSchema = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape);
