import { SourceDataError } from '@aurora/core';
import { describe, expect, it } from 'vitest';
import { fetchedToBronze, type OracleColumn, redoToBronze } from './bronze-rows.js';

const quantity: OracleColumn = { name: 'PRIMARY_QUANTITY', dataType: 'NUMBER', scale: null };
const id: OracleColumn = { name: 'TRANSACTION_ID', dataType: 'NUMBER', scale: 0 };
const binary: OracleColumn = { name: 'RATE', dataType: 'BINARY_DOUBLE', scale: null };
const zone = 'Europe/Berlin';

describe('fetchedToBronze', () => {
  it('reads numbers as Oracle writes them, and ids as their exact digits', () => {
    expect(fetchedToBronze(quantity, '12.5', zone)).toBe(12.5);
    expect(fetchedToBronze(quantity, '-.5', zone)).toBe(-0.5);
    expect(fetchedToBronze(quantity, '1.5E+125', zone)).toBe(1.5e125);
    expect(fetchedToBronze(id, '9007199254740993', zone)).toBe('9007199254740993');
    expect(fetchedToBronze(id, '-42', zone)).toBe('-42');
  });

  it('takes an empty text for NULL, as Oracle does, instead of 0', () => {
    expect(fetchedToBronze(quantity, '', zone)).toBeNull();
    expect(fetchedToBronze(id, '', zone)).toBeNull();
  });

  it.each([
    ['hexadecimal', quantity, '0x1F'],
    ['past the double range', quantity, '1e999'],
    ['Infinity in a NUMBER', quantity, 'Infinity'],
    ['a binary exponent', quantity, '0b101'],
    ['SQL in an id', id, "1'; DROP TABLE x; --"],
    ['a decimal in an id (scale 0)', id, '48.2'],
    ['a path in an id', id, '../../etc/passwd'],
  ])('refuses %s, naming the column', (_what, column, text) => {
    expect(() => fetchedToBronze(column, text, zone)).toThrow(SourceDataError);
    expect(() => fetchedToBronze(column, text, zone)).toThrow(column.name);
  });

  it('reads the infinities and NaN a BINARY_DOUBLE may hold', () => {
    expect(fetchedToBronze(binary, 'Inf', zone)).toBe(Number.POSITIVE_INFINITY);
    expect(fetchedToBronze(binary, '-Inf', zone)).toBe(Number.NEGATIVE_INFINITY);
    expect(fetchedToBronze(binary, 'Nan', zone)).toBeNaN();
  });

  it('applies the same rules to SQL_REDO literals, quoted or not', () => {
    expect(redoToBronze(quantity, { kind: 'number', text: '-0' }, zone)).toBe(-0);
    expect(() => redoToBronze(quantity, '1e999', zone)).toThrow(SourceDataError);
    expect(() => redoToBronze(id, { kind: 'number', text: '1.5' }, zone)).toThrow('scale 0');
  });
});
