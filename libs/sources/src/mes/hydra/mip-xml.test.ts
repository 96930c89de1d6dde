import { SourceDataError } from '@aurora/core';
import { describe, expect, it } from 'vitest';
import { HYDRA_MAX_TAGS, readHydraMipError, readHydraMipPage } from './mip-xml.js';

const context = { status: 200, request: 'GET http://mip.test/mip/api/v1/services/BOOrder' };
const DECL = '<?xml version="1.0" encoding="UTF-8"?>';
const page = (records: string, tail = '<NextCursor/>') =>
  `${DECL}<MipResponse service="BOOrder"><Records>${records}</Records>${tail}</MipResponse>`;

function refusal(body: string, service = 'BOOrder'): SourceDataError {
  try {
    readHydraMipPage(body, service, context);
  } catch (error) {
    if (error instanceof SourceDataError) return error;
    throw error;
  }
  throw new Error('expected the body to be refused');
}

describe('readHydraMipPage', () => {
  it('refuses an XXE payload before parsing, and no file content appears', () => {
    const xxe = `${DECL}<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><MipResponse service="BOOrder"><Records><Record><OrderNo>&x;</OrderNo></Record></Records></MipResponse>`;
    const error = refusal(xxe);
    expect(error.code).toBe('source.data_invalid');
    expect(error.message).toBe(
      'HYDRA MIP response refused: it contains a DOCTYPE or ENTITY declaration (external entities and entity expansion are not accepted)',
    );
    expect(error.details).toEqual({ status: 200, request: context.request, body: xxe });
    expect(JSON.stringify(error)).not.toMatch(/root:|nologin|\/bin\/(ba)?sh/);
  });

  it('refuses a billion-laughs payload at once', () => {
    const levels = Array.from(
      { length: 9 },
      (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
    ).join('');
    const laughs = `${DECL}<!DOCTYPE lolz [<!ENTITY lol "lol">${levels}]><MipResponse service="BOOrder"><Records><Record><OrderNo>&lol9;</OrderNo></Record></Records></MipResponse>`;
    const started = performance.now();
    const error = refusal(laughs);
    expect(performance.now() - started).toBeLessThan(50);
    expect(error.message).toContain('contains a DOCTYPE or ENTITY declaration');
    expect(String(error.details['body']).length).toBe(laughs.length);
  });

  it('refuses entity declarations however they are spelled, and undefined entities', () => {
    expect(refusal(`<!doctype x><MipResponse service="BOOrder"/>`).message).toContain('DOCTYPE or ENTITY');
    expect(refusal(`<!ENTITY x "y"><MipResponse service="BOOrder"/>`).message).toContain('DOCTYPE or ENTITY');
    expect(refusal(page('<Record><OrderNo>&x;</OrderNo></Record>')).message).toBe(
      'HYDRA MIP BOOrder response: undefined entity "&x;"',
    );
    expect(refusal(page('<Record><OrderNo>&#1;</OrderNo></Record>')).message).toContain(
      'not an XML character',
    );
  });

  it('keeps unicode, CDATA, entities, whitespace and attributes exactly', () => {
    const body = page(
      '<Record id="r&amp;1"><ArticleNo>Ø 12 – Größe ≤ 5 µm 🙂</ArticleNo>' +
        '<Text><![CDATA[a &amp; <b> "c"]]> &amp; d &lt;e&gt; &quot;&apos; &#169;&#x263A;</Text>' +
        '<Padded>  two  spaces\n</Padded><Empty/><Open></Open>' +
        '<TargetCycleTime unit="s" source="ERP &amp; MES">6.50</TargetCycleTime></Record>',
      '<NextCursor>abc_-1</NextCursor>',
    );
    expect(readHydraMipPage(body, 'BOOrder', context)).toEqual({
      nextCursor: 'abc_-1',
      records: [
        {
          'Record@id': 'r&1',
          ArticleNo: 'Ø 12 – Größe ≤ 5 µm 🙂',
          Text: 'a &amp; <b> "c" & d <e> "\' ©☺',
          Padded: '  two  spaces\n',
          Empty: '',
          Open: '',
          TargetCycleTime: '6.50',
          'TargetCycleTime@unit': 's',
          'TargetCycleTime@source': 'ERP & MES',
        },
      ],
    });
  });

  it('lands nested and repeated elements as JSON text of their structure', () => {
    const body = page(
      '<Record>\n  <Tool><Id>T1</Id><Life unit="%">80</Life></Tool>\n' +
        '  <Operator>Anna</Operator>\n  <Operator>Jörg</Operator>\n' +
        '  <Note lang="de">gut</Note><Note>ok</Note>\n</Record>',
    );
    const [fields] = readHydraMipPage(body, 'BOOrder', context).records;
    expect(fields).toEqual({
      Tool: '{"Id":"T1","Life":{"@unit":"%","#text":"80"}}',
      Operator: '["Anna","Jörg"]',
      Note: '[{"@lang":"de","#text":"gut"},"ok"]',
    });
    expect(JSON.parse(fields!['Tool']!)).toEqual({ Id: 'T1', Life: { '@unit': '%', '#text': '80' } });
  });

  it('lands a declared list as a JSON array whatever its length: none, one or many items', () => {
    const lists = { Postings: 'Posting' };
    const posting = (at: string, good: number) =>
      `<Posting><PostedAt>${at}</PostedAt><QtyGood>${good}</QtyGood><QtyScrap>0</QtyScrap></Posting>`;
    const body = page(
      `<Record><OrderNo>1</OrderNo><Postings/></Record>` +
        `<Record><OrderNo>2</OrderNo><Postings>${posting('2026-11-23T06:15:00+01:00', 7)}</Postings></Record>` +
        `<Record><OrderNo>3</OrderNo><Postings>\n  ${posting('2026-11-23T06:15:00+01:00', 7)}\n  ${posting('2026-11-23T06:22:30.5+01:00', 3)}\n</Postings></Record>`,
    );
    const records = readHydraMipPage(body, 'BOOrder', context, lists).records;
    expect(records.map((r) => r['Postings'])).toEqual([
      '[]',
      '[{"PostedAt":"2026-11-23T06:15:00+01:00","QtyGood":"7","QtyScrap":"0"}]',
      '[{"PostedAt":"2026-11-23T06:15:00+01:00","QtyGood":"7","QtyScrap":"0"},' +
        '{"PostedAt":"2026-11-23T06:22:30.5+01:00","QtyGood":"3","QtyScrap":"0"}]',
    ]);
    // Undeclared, the same XML has three shapes: an empty string, an object, an object holding an array.
    const plain = readHydraMipPage(body, 'BOOrder', context).records.map((r) => r['Postings']);
    expect(plain[0]).toBe('');
    expect(JSON.parse(plain[1]!)).toEqual({
      Posting: { PostedAt: '2026-11-23T06:15:00+01:00', QtyGood: '7', QtyScrap: '0' },
    });
    expect(Array.isArray(JSON.parse(plain[2]!).Posting)).toBe(true);
  });

  it('refuses a declared list holding anything but its items, and a list given twice', () => {
    const lists = { Postings: 'Posting' };
    const refused = (record: string) => {
      try {
        readHydraMipPage(page(record), 'BOOrder', context, lists);
      } catch (error) {
        if (error instanceof SourceDataError) return error.message;
        throw error;
      }
      throw new Error('expected the body to be refused');
    };
    expect(refused('<Record><Postings><Booking/></Postings></Record>')).toBe(
      'HYDRA MIP BOOrder response: <Postings> holds <Booking>, expected <Posting>',
    );
    expect(refused('<Record><Postings>7</Postings></Record>')).toBe(
      'HYDRA MIP BOOrder response: <Postings> holds text outside <Posting> elements',
    );
    expect(refused('<Record><Postings unit="pcs"/></Record>')).toBe(
      'HYDRA MIP BOOrder response: <Postings> has attributes',
    );
    expect(refused('<Record><Postings/><Postings/></Record>')).toBe(
      'HYDRA MIP BOOrder response: <Postings> occurs 2 times in a record, expected once',
    );
  });

  it('refuses prototype names and keeps other Object.prototype names unchanged', () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      expect(refusal(page(`<Record><${name}>x</${name}></Record>`)).message).toContain(
        `could not be parsed: [SECURITY] Invalid name: "${name}"`,
      );
    }
    const [fields] = readHydraMipPage(
      page('<Record><hasOwnProperty>y</hasOwnProperty><toString a="1">z</toString></Record>'),
      'BOOrder',
      context,
    ).records;
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(Object.entries(fields!)).toEqual([
      ['hasOwnProperty', 'y'],
      ['toString', 'z'],
      ['toString@a', '1'],
    ]);
  });

  it('ends the listing on an empty, blank or missing NextCursor', () => {
    expect(readHydraMipPage(page(''), 'BOOrder', context).nextCursor).toBeUndefined();
    expect(
      readHydraMipPage(page('', '<NextCursor> </NextCursor>'), 'BOOrder', context).nextCursor,
    ).toBeUndefined();
    expect(readHydraMipPage(page('', ''), 'BOOrder', context)).toEqual({
      records: [],
      nextCursor: undefined,
    });
    expect(
      readHydraMipPage(`${DECL}<MipResponse service="BOOrder"><Records/></MipResponse>`, 'BOOrder', context),
    ).toEqual({ records: [], nextCursor: undefined });
  });

  it('refuses characters XML does not allow, which the validator lets through: a raw NUL, a C0 control', () => {
    const nul = refusal(page('<Record><OrderNo>4711</OrderNo><Text>A\u0000B</Text></Record>'));
    expect(nul.message).toMatch(
      /^HYDRA MIP response is not well-formed XML: character U\+0000 at offset \d+/,
    );
    expect(refusal(page('<Record><Text>\u001b[31m</Text></Record>')).message).toContain('U+001B');
    // Tab, line feed and carriage return are XML characters.
    expect(readHydraMipPage(page('<Record><Text>a\tb</Text></Record>'), 'BOOrder', context).records).toEqual([
      { Text: 'a\tb' },
    ]);
  });

  it('refuses a page of more tags than any page holds before parsing it, keeping the start of the body', () => {
    const body = page(
      `<Record><OrderNo>1</OrderNo><List>${'<i>0</i>'.repeat(HYDRA_MAX_TAGS / 2)}</List></Record>`,
    );
    const error = refusal(body);
    expect(error.message).toBe(
      `HYDRA MIP response has more than ${HYDRA_MAX_TAGS} tags: refused rather than parsed into memory (ask for smaller pages)`,
    );
    expect(String(error.details['body']).length).toBe(64 * 1024);
  });

  it('refuses documents of another shape', () => {
    expect(refusal('<MipResponse service="BOOrder"><Records>').message).toContain('not well-formed XML');
    expect(refusal(`${DECL}<Response service="BOOrder"><Records/></Response>`).message).toContain(
      'root element is <Response>',
    );
    expect(refusal(page(''), 'BOMachineState').message).toBe(
      'HYDRA MIP BOMachineState response: it answers for service "BOOrder"',
    );
    expect(refusal(`${DECL}<MipResponse service="BOOrder"/>`).message).toContain('exactly one <Records>');
    expect(refusal(page('<Row><OrderNo>1</OrderNo></Row>')).message).toContain(
      'holds <Row>, expected <Record>',
    );
    expect(refusal(page('<Record>loose<OrderNo>1</OrderNo></Record>')).message).toContain('text outside');
    expect(refusal(page('', '<NextCursor>a</NextCursor><NextCursor>b</NextCursor>')).message).toContain(
      'more than one <NextCursor>',
    );
  });
});

describe('readHydraMipError', () => {
  it('reads code and message of a MIP error body, and nothing else', () => {
    expect(readHydraMipError(`${DECL}<Error code="UNAUTHORIZED" message="API key &amp; id"/>`)).toEqual({
      code: 'UNAUTHORIZED',
      message: 'API key & id',
    });
    expect(readHydraMipError('<html>Bad Gateway</html>')).toBeUndefined();
    expect(readHydraMipError('Bad Gateway')).toBeUndefined();
    expect(
      readHydraMipError('<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><Error code="&x;"/>'),
    ).toBeUndefined();
  });
});
