import { describe, expect, it } from 'vitest';
import { compileRoute } from './route.js';

describe('compileRoute', () => {
  it('matches parameters one segment each, case-insensitively on literals', () => {
    const route = compileRoute('v1/machines/{machine_id}/health');
    expect(route.match('/v1/machines/aug-m01/health')).toEqual({ machine_id: 'aug-m01' });
    expect(route.match('/V1/Machines/aug-m01/health/')).toEqual({ machine_id: 'aug-m01' });
    expect(route.match('/v1/machines/a/b/health')).toBeUndefined();
    expect(route.match('/v1/machines//health')).toBeUndefined();
  });

  it('decodes parameters and supports optional and typed ones', () => {
    expect(compileRoute('v1/x/{id}').match('/v1/x/a%20b')).toEqual({ id: 'a b' });
    expect(compileRoute('v1/items/{id?}').match('/v1/items')).toEqual({});
    expect(compileRoute('v1/items/{id:int}').match('/v1/items/12')).toEqual({ id: '12' });
    expect(compileRoute('v1/items/{id:int}').match('/v1/items/x')).toBeUndefined();
  });

  it('treats regex characters in literals literally', () => {
    expect(compileRoute('openapi.json').match('/openapiXjson')).toBeUndefined();
    expect(compileRoute('openapi.json').match('/openapi.json')).toEqual({});
  });
});
