import {
  type ApiContext,
  ApiProblem,
  type ApiResponse,
  apiEndpoints,
  defineEndpoint,
  type Endpoint,
  type EndpointRuntime,
  type LocalGateway,
  type LocalIssuer,
  openApiDocument,
  problemResponse,
  runEndpoint,
  toApiProblem,
} from '@aurora/api';
import { type Clock, createLogger } from '@aurora/core';
import { type FunctionApp, httpFunction } from '@aurora/runtime';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';

/** What the endpoints need, built once by the composition root (Azure's index.ts, or the local platform). */
export interface ApiServices extends EndpointRuntime {
  context: ApiContext;
  /** Locally: API Management's limits and cache, applied in front of every function. */
  gateway?: LocalGateway;
  /** Locally: the token issuer whose JWKS /api/.well-known/jwks.json serves. */
  issuer?: LocalIssuer;
}

export interface ApiDeps {
  clock: Clock;
  version: string;
  /** Built on first use, so importing this table reads no configuration. */
  services?: () => Promise<ApiServices>;
}

/** The platform's own endpoints: liveness, the OpenAPI document and (locally) the issuer's keys. */
function ownEndpoints(deps: ApiDeps, services: () => Promise<ApiServices | undefined>): Endpoint[] {
  let openApi: Record<string, unknown> | undefined;
  return [
    defineEndpoint({
      name: 'health',
      method: 'GET',
      path: '/health',
      summary: 'Liveness of the API',
      description: 'Answers while the Function App runs; needs no token.',
      roles: 'anonymous',
      response: z
        .object({ status: z.literal('ok'), version: z.string(), time: z.string() })
        .meta({ id: 'Health' }),
      handle: async () => ({
        status: 'ok' as const,
        version: deps.version,
        time: deps.clock.now().toISOString(),
      }),
    }),
    defineEndpoint({
      name: 'openApi',
      method: 'GET',
      path: '/openapi.json',
      summary: 'This OpenAPI 3.1 document',
      description: 'Generated from the zod schemas the endpoints validate with; API Management imports it.',
      roles: 'anonymous',
      response: z.record(z.string(), z.unknown()),
      handle: async () => {
        openApi ??= apiOpenApiDocument(deps.version);
        return openApi;
      },
    }),
    defineEndpoint({
      name: 'jwks',
      method: 'GET',
      path: '/.well-known/jwks.json',
      summary: "The local token issuer's public keys (not in Azure, where Entra ID publishes them)",
      description: 'Served only by the local host.',
      roles: 'anonymous',
      response: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }),
      handle: async () => {
        const issuer = (await services())?.issuer;
        if (!issuer) throw new ApiProblem(404, 'jwks.not_here', 'this deployment does not issue tokens');
        return issuer.jwks() as { keys: Record<string, unknown>[] };
      },
    }),
  ];
}

/** The OpenAPI document of a version, generated from the endpoints' zod schemas (no services needed). */
export function apiOpenApiDocument(version: string): Record<string, unknown> {
  const deps: ApiDeps = { clock: { now: () => new Date(0) } as Clock, version };
  const documented = ownEndpoints(deps, async () => undefined).filter((e) => e.name !== 'jwks');
  return openApiDocument([...documented, ...apiEndpoints({} as ApiContext)], version);
}

const noServices: EndpointRuntime = {
  verify: async () => {
    throw new ApiProblem(503, 'auth.unavailable', 'the API cannot check tokens here');
  },
  log: createLogger({ level: 'silent', name: 'api' }),
};

/**
 * The api Function App's table: every endpoint of libs/api (ARCHITECTURE §4) plus the platform's own,
 * each a thin handler that runs the request through runEndpoint (authorise, validate, handle, map errors
 * to problem details). In Azure, API Management applies the rate limit and cache in front; on a laptop the
 * services carry a LocalGateway that does the same.
 */
export function apiApp(deps: ApiDeps): FunctionApp {
  let services: Promise<ApiServices> | undefined;
  const servicesOnce = async (): Promise<ApiServices | undefined> => {
    if (!deps.services) return undefined;
    services ??= deps.services().catch((error: unknown) => {
      services = undefined;
      throw error;
    });
    return services;
  };
  const own = ownEndpoints(deps, servicesOnce);
  const byContext = new WeakMap<ApiContext, Map<string, Endpoint>>();
  const endpointFor = (name: string, s: ApiServices | undefined): Endpoint | undefined => {
    const mine = own.find((e) => e.name === name);
    if (mine || !s) return mine;
    let map = byContext.get(s.context);
    if (!map) {
      map = new Map(apiEndpoints(s.context).map((e) => [e.name, e]));
      byContext.set(s.context, map);
    }
    return map.get(name);
  };
  const handler =
    (name: string) =>
    async (request: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> => {
      const instance = `urn:aurora:invocation:${ctx.invocationId}`;
      let s: ApiServices | undefined;
      try {
        s = await servicesOnce();
      } catch (error) {
        ctx.error('api services could not be built', error);
        return problemResponse(toApiProblem(error), instance);
      }
      const endpoint = endpointFor(name, s);
      if (!endpoint)
        return problemResponse(
          new ApiProblem(503, 'api.unavailable', 'this endpoint is not configured here'),
          instance,
        );
      const run = (): Promise<ApiResponse> =>
        runEndpoint(endpoint, s ?? noServices, request, ctx.invocationId);
      return s?.gateway ? s.gateway.handle(request, run) : run();
    };
  const shapes = [...own, ...apiEndpoints({} as ApiContext)];
  return {
    name: 'api',
    functions: shapes.map((e) =>
      httpFunction(
        e.name,
        {
          route: e.name === 'jwks' ? '.well-known/jwks.json' : `v1${e.path}`,
          methods: [e.method],
          authLevel: 'anonymous',
        },
        handler(e.name),
      ),
    ),
  };
}
