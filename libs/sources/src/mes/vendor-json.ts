import { jsonText } from '@aurora/core';
import type { MesValue } from './connector.js';

/**
 * Reading a MES's JSON without loss. JSON.parse alone turns an id of 2^53 + 1 into 2^53 and `1e999` into
 * Infinity, and keeps an escaped unpaired surrogate (`"\ud800"`) that no UTF-8 file can hold; here such
 * numbers keep their exact text (the field lands as text, never as a number that is not what was sent),
 * and an unpaired surrogate makes the body unreadable (dead-lettered whole) rather than silently changed.
 * Bodies with neither (every body the plants send) take JSON.parse's own fast path.
 */

/** Digits a double may not hold exactly, an exponent it may not reach, or an escaped surrogate. */
const NEEDS_CARE = /\d{16}|[eE][+]?\d{3}|\\u[dD][89a-fA-F]/;
/** A UTF-16 surrogate without its partner. */
const UNPAIRED = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The error for text that is JSON but not data we can keep as sent; its message names the problem. */
export class VendorJsonError extends Error {
  override readonly name = 'VendorJsonError';
}

/**
 * JSON.parse, except that a number a double cannot represent as written (an integer written as digits
 * beyond ±(2^53 − 1), a value beyond the double range) is kept as its text, and an unpaired surrogate in a string
 * or a name throws a VendorJsonError. Throws SyntaxError for text that is not JSON, as JSON.parse does.
 */
export function parseVendorJson(text: string): unknown {
  if (!NEEDS_CARE.test(text)) return JSON.parse(text);
  const reviver = function (this: unknown, key: string, value: unknown, context?: { source?: string }) {
    if (UNPAIRED.test(key))
      throw new VendorJsonError(`the name ${JSON.stringify(key)} holds an unpaired surrogate`);
    if (typeof value === 'string') {
      if (UNPAIRED.test(value))
        throw new VendorJsonError(`the value of ${JSON.stringify(key)} holds an unpaired surrogate`);
      return value;
    }
    if (typeof value !== 'number' || context?.source === undefined) return value;
    // An integer written as digits (an id) beyond 2^53, or anything past the double range. A decimal
    // or exponent form (1.5e300) is a measurement: a double holds it as well as it holds 0.1.
    const inexact =
      !Number.isFinite(value) || (!Number.isSafeInteger(value) && /^-?\d+$/.test(context.source));
    return inexact ? context.source : value;
  };
  return JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1]);
}

/** A vendor field as it lands: scalars as they are, nested objects and arrays as their JSON text (any depth). */
export function vendorFieldValue(value: unknown): MesValue {
  return value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
    ? value
    : (jsonText(value) ?? null);
}

/** A record's fields as own properties, so that a field named `__proto__` is kept as data. */
export function vendorFields(record: Record<string, unknown>): Record<string, MesValue> {
  return Object.fromEntries(Object.entries(record).map(([name, value]) => [name, vendorFieldValue(value)]));
}
