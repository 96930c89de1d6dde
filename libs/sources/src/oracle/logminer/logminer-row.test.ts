import { describe, expect, it } from 'vitest';
import { LOGMINER_CONTENTS_SELECT_LIST } from './logminer-row.js';
import { logMinerRow } from './logminer-rows.fixture.js';

describe('LOGMINER_CONTENTS_SELECT_LIST', () => {
  it('selects exactly the LogMinerRow columns, SCNs as text and XID as hex', () => {
    const items = LOGMINER_CONTENTS_SELECT_LIST.split(', ');
    const names = items.map((item) => item.split(' AS ').at(-1));
    expect(names.sort()).toStrictEqual(Object.keys(logMinerRow({ SCN: '1', XID: 'AA' })).sort());
    expect(items.filter((item) => item.includes('(')).sort()).toStrictEqual([
      'RAWTOHEX(XID) AS XID',
      'TO_CHAR(COMMIT_SCN) AS COMMIT_SCN',
      'TO_CHAR(SCN) AS SCN',
      'TO_CHAR(START_SCN) AS START_SCN',
    ]);
  });
});
