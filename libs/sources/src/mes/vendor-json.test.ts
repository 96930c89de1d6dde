import { describe, expect, it } from 'vitest';
import { parseVendorJson, VendorJsonError, vendorFields } from './vendor-json.js';

describe('parseVendorJson', () => {
  it('keeps numbers a double cannot hold as written as their text, and every other number as a number', () => {
    expect(
      parseVendorJson(
        '{"big":18446744073709551616,"past53":9007199254740993,"huge":1e999,"tiny":-1e-400,"max":9007199254740991,"rate":0.1,"neg":-0,"e":1.5e300}',
      ),
    ).toEqual({
      big: '18446744073709551616',
      past53: '9007199254740993',
      huge: '1e999',
      // Underflow to zero is a double's rounding, like 0.1's: kept as the number.
      tiny: -0,
      max: 9007199254740991,
      rate: 0.1,
      neg: -0,
      e: 1.5e300,
    });
  });

  it('refuses an unpaired surrogate in a value or a name, and keeps a paired one', () => {
    expect(parseVendorJson('["\\ud83d\\ude00"]')).toEqual(['😀']);
    expect(() => parseVendorJson('{"a":"x\\ud800y"}')).toThrow(VendorJsonError);
    expect(() => parseVendorJson('{"a":"\\udc00"}')).toThrow('the value of "a" holds an unpaired surrogate');
    expect(() => parseVendorJson('{"\\ud800":1}')).toThrow(VendorJsonError);
  });

  it('fails as JSON.parse does on text that is not JSON', () => {
    expect(() => parseVendorJson('{"a":NaN}')).toThrow(SyntaxError);
    expect(() => parseVendorJson('{"a":12345678901234567')).toThrow(SyntaxError);
  });
});

describe('vendorFields', () => {
  it('keeps a __proto__ field as data and nested values of any depth as JSON text', () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const item = parseVendorJson(`{"__proto__":{"polluted":"yes"},"deep":${deep},"n":1,"s":"x","z":null}`);
    const fields = vendorFields(item as Record<string, unknown>);
    expect(Object.keys(fields)).toEqual(['__proto__', 'deep', 'n', 's', 'z']);
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(fields, '__proto__')?.value).toBe('{"polluted":"yes"}');
    expect(fields['deep']).toBe(deep);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
