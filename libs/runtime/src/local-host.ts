import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '@aurora/core';
import type { HttpResponseInit, InvocationContext as InvocationContextType, Timer } from '@azure/functions';
import functions from '@azure/functions';
import { Cron } from 'croner';
import type { FunctionApp, FunctionDefinition } from './function-table.js';
import { type CompiledRoute, compileRoute } from './route.js';

export interface LocalHostOptions {
  apps: readonly FunctionApp[];
  log: Logger;
  port: number;
  host?: string;
  /** Start the timers on their schedules (off for one-shot runs, which invoke timers themselves). */
  schedule?: boolean;
  maxBodyBytes?: number;
}

export interface InvocationStats {
  invocations: number;
  failures: number;
}

// @azure/functions is CommonJS whose named exports Node cannot detect; take them off the default export.
const { HttpRequest, InvocationContext } = functions;

type HttpFunction = Extract<FunctionDefinition, { trigger: { type: 'http' } }>;
type TimerFunction = Extract<FunctionDefinition, { trigger: { type: 'timer' } }>;
type EventHubFunction = Extract<FunctionDefinition, { trigger: { type: 'eventHub' } }>;

/**
 * The Functions host on a laptop: the same tables of functions as in Azure, timers on their NCRONTAB
 * schedules (UTC), HTTP under /api on loopback, and Event Hubs handlers for the edge bridge to feed. Each
 * invocation gets a real InvocationContext, so handlers cannot tell the difference.
 */
export class LocalHost {
  readonly #o: LocalHostOptions;
  readonly #http: { fn: HttpFunction; route: CompiledRoute }[] = [];
  readonly #timers = new Map<string, TimerFunction>();
  readonly #eventHubs = new Map<string, EventHubFunction>();
  readonly #crons: Cron[] = [];
  readonly stats = new Map<string, InvocationStats>();
  #server: Server | undefined;
  url = '';

  constructor(options: LocalHostOptions) {
    this.#o = options;
    for (const app of options.apps) {
      for (const fn of app.functions) {
        this.stats.set(fn.name, { invocations: 0, failures: 0 });
        if (fn.trigger.type === 'http')
          this.#http.push({ fn: fn as HttpFunction, route: compileRoute(fn.trigger.route) });
        else if (fn.trigger.type === 'timer') this.#timers.set(fn.name, fn as TimerFunction);
        else this.#eventHubs.set(fn.name, fn as EventHubFunction);
      }
    }
  }

  get functionNames(): string[] {
    return [...this.stats.keys()];
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.#serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(`port ${this.#o.port} is in use: set AURORA_PORT to a free port`, { cause: error })
            : error,
        ),
      );
      server.listen(this.#o.port, this.#o.host ?? '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.url = `http://${this.#o.host ?? '127.0.0.1'}:${typeof address === 'object' && address ? address.port : this.#o.port}`;
    this.#server = server;
    if (this.#o.schedule ?? true) {
      for (const fn of this.#timers.values()) {
        this.#crons.push(
          new Cron(
            fn.trigger.schedule,
            { timezone: 'UTC', protect: true },
            () => void this.invokeTimer(fn.name).catch(() => undefined),
          ),
        );
        if (fn.trigger.runOnStartup) void this.invokeTimer(fn.name).catch(() => undefined);
      }
    }
  }

  async stop(): Promise<void> {
    for (const cron of this.#crons) cron.stop();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    this.#server?.closeAllConnections();
  }

  /** Runs a timer function now, as its schedule would. */
  async invokeTimer(name: string): Promise<void> {
    const fn = this.#timers.get(name);
    if (!fn) throw new Error(`no timer function "${name}"`);
    const timer: Timer = {
      isPastDue: false,
      schedule: { adjustForDST: false },
      scheduleStatus: { last: '', next: '', lastUpdated: '' },
    };
    await this.#invoke(fn.name, {}, (ctx) => fn.handler(timer, ctx));
  }

  /** The Event Hubs trigger of `name`, as a function the edge bridge can hand batches to. */
  eventHubHandler(name: string): (messages: unknown[], triggerMetadata: object) => Promise<void> {
    const fn = this.#eventHubs.get(name);
    if (!fn) throw new Error(`no Event Hubs function "${name}"`);
    return async (messages, triggerMetadata) => {
      await this.#invoke(fn.name, triggerMetadata as Record<string, unknown>, (ctx) =>
        fn.handler(messages, ctx),
      );
    };
  }

  async #invoke<T>(
    name: string,
    triggerMetadata: Record<string, unknown>,
    run: (ctx: InvocationContextType) => Promise<T> | T,
  ): Promise<T> {
    const invocationId = randomUUID();
    const log = this.#o.log.child({ functionName: name, invocationId });
    const ctx = new InvocationContext({
      functionName: name,
      invocationId,
      triggerMetadata,
      logHandler: (level, ...args) => {
        const text = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
        const method =
          level === 'error' || level === 'critical'
            ? 'error'
            : level === 'warning'
              ? 'warn'
              : level === 'information'
                ? 'info'
                : 'debug';
        log[method]({ event: 'function.log' }, text);
      },
    });
    const stats = this.stats.get(name)!;
    stats.invocations++;
    const started = performance.now();
    try {
      const result = await run(ctx);
      log.debug(
        { event: 'function.completed', durationMs: Math.round(performance.now() - started) },
        `${name} completed`,
      );
      return result;
    } catch (error) {
      stats.failures++;
      log.error(
        { event: 'function.failed', err: error, durationMs: Math.round(performance.now() - started) },
        `${name} failed`,
      );
      throw error;
    }
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // RFC 9457 with the stable `code` every problem of the API carries (the host answers these itself).
    const problem = (status: number, title: string, detail: string, code: string) => {
      res.writeHead(status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ type: 'about:blank', title, status, detail, code }));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!url.pathname.startsWith('/api/'))
        return problem(404, 'Not Found', 'functions are served under /api/', 'route.not_found');
      const path = url.pathname.slice('/api'.length);
      let matched: { fn: HttpFunction; params: Record<string, string> } | undefined;
      let methodMismatch = false;
      for (const { fn, route } of this.#http) {
        const params = route.match(path);
        if (!params) continue;
        if (!fn.trigger.methods.includes((req.method ?? 'GET') as never)) {
          methodMismatch = true;
          continue;
        }
        matched = { fn, params };
        break;
      }
      if (!matched)
        return methodMismatch
          ? problem(405, 'Method Not Allowed', `${req.method} is not allowed here`, 'method.not_allowed')
          : problem(404, 'Not Found', `no function serves ${url.pathname}`, 'route.not_found');
      const body = await readBody(req, this.#o.maxBodyBytes ?? 1024 * 1024);
      if (body === 'too-large')
        return problem(413, 'Content Too Large', 'request bodies are limited to 1 MiB', 'body.too_large');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const request = new HttpRequest({
        method: req.method ?? 'GET',
        url: `${this.url}${url.pathname}${url.search}`,
        headers,
        params: matched.params,
        ...(body.length > 0 ? { body: { bytes: body } } : {}),
      });
      const fn = matched.fn;
      const response: HttpResponseInit = await this.#invoke(
        fn.name,
        {},
        (ctx) => fn.handler(request, ctx) as Promise<HttpResponseInit>,
      );
      await writeResponse(res, response);
    } catch (error) {
      if (error instanceof URIError)
        return problem(400, 'Bad Request', 'the path is not valid percent-encoding', 'path.malformed');
      if (!res.headersSent)
        problem(500, 'Internal Server Error', 'the function failed; see the host log', 'internal');
    }
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function writeResponse(res: ServerResponse, response: HttpResponseInit): Promise<void> {
  const headers: Record<string, string> = {};
  if (response.headers)
    for (const [k, v] of new Headers(response.headers as ConstructorParameters<typeof Headers>[0]))
      headers[k] = v;
  let body: string | Buffer | undefined;
  if (response.jsonBody !== undefined) {
    body = JSON.stringify(response.jsonBody);
    headers['content-type'] ??= 'application/json';
  } else if (typeof response.body === 'string') body = response.body;
  else if (response.body instanceof Uint8Array) body = Buffer.from(response.body);
  res.writeHead(response.status ?? 200, headers);
  res.end(body);
}
