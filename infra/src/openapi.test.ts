import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultOpenApiDocument, readOpenApiDocument } from './openapi.js';

describe('openapi', () => {
  it('lists the endpoints of ARCHITECTURE §4 under /api/v1 in OpenAPI 3.1', () => {
    const doc = defaultOpenApiDocument() as {
      openapi: string;
      servers: { url: string }[];
      paths: Record<string, object>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers[0]?.url).toBe('/api/v1');
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'GET /production/oee/{facility_id}',
        'GET /inventory/alerts',
        'POST /quality/reports',
        'GET /machines/{machine_id}/health',
        'GET /health',
        'GET /freshness',
      ].sort(),
    );
  });

  it('prefers the generated document and falls back to the built-in one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aurora-openapi-'));
    const missing = pathToFileURL(join(dir, 'missing.json'));
    expect(readOpenApiDocument(missing).source).toBe('built-in');
    expect(JSON.parse(readOpenApiDocument(missing).text)).toEqual(defaultOpenApiDocument());
    const generated = join(dir, 'openapi.json');
    writeFileSync(generated, '{"openapi":"3.1.0","paths":{}}');
    expect(readOpenApiDocument(pathToFileURL(generated))).toEqual({
      source: 'generated',
      text: '{"openapi":"3.1.0","paths":{}}',
    });
  });

  it('refuses a generated document that is not JSON instead of importing it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aurora-openapi-'));
    const broken = join(dir, 'openapi.json');
    writeFileSync(broken, 'openapi: 3.1.0');
    expect(() => readOpenApiDocument(pathToFileURL(broken))).toThrow(/cannot use .*openapi\.json/);
  });
});
