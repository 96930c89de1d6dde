import { AuroraError } from '@aurora/core';
import type { z } from 'zod';

/** RFC 9457 problem details, as every error of the API is sent (`application/problem+json`). */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** A stable machine-readable reason, e.g. `token.expired`, `validation.failed`. */
  code: string;
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An error the API answers with a problem: its status, stable code, safe detail and extensions. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ApiProblem';
  }

  toProblem(instance?: string): ProblemDetails {
    return {
      type: 'about:blank',
      title: TITLES[this.status] ?? 'Error',
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

/** 400 with the zod issues (path, message, code) so a client can point at the bad field. */
export function validationProblem(where: 'path' | 'query' | 'body', error: z.ZodError): ApiProblem {
  return new ApiProblem(400, 'validation.failed', `the request ${where} is not valid`, {
    errors: error.issues.map((i) => ({
      in: where,
      path: i.path.map(String).join('.'),
      code: i.code,
      message: i.message,
    })),
  });
}

/**
 * Maps anything thrown to the problem sent: ApiProblems as they are; a warehouse not built yet as 503;
 * everything else as a 500 that names only the invocation id to quote (the cause goes to the log).
 */
export function toApiProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  if (error instanceof AuroraError && error.code === 'lake.not_found')
    return new ApiProblem(
      503,
      'gold.unavailable',
      'gold is not available yet: no medallion run has finished',
      {},
      { 'retry-after': '60' },
    );
  return new ApiProblem(
    500,
    'internal',
    'the request failed inside the API; quote the instance id when reporting it',
  );
}
