import { describe, expect, it } from 'vitest';
import { csvText } from './quality.js';

describe('csvText', () => {
  it('quotes a text cell a spreadsheet would run as a formula, and leaves numbers and plain text alone', () => {
    for (const formula of [`=cmd|' /C calc'!A0`, '+SUM(A1)', '-2+3', '@SUM(1)', '\tx', '\rx', '＝1+1'])
      expect(csvText(formula)).toBe(`'${formula}`);
    expect(csvText('D-SCRATCH')).toBe('D-SCRATCH');
    expect(csvText(-0.5)).toBe(-0.5);
    expect(csvText(null)).toBeNull();
  });
});
