import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The hostile-input corpus: named cases every entry point of the platform is fed (test/hostile/*.test.ts,
 * docs/security.md). A case is one of three forms, so that each entry point can put it where its input
 * lives:
 * - `body`: a whole message or response, made from the entry point's own good body (truncated at its
 *   marker, re-encoded, given a DOCTYPE...), as bytes;
 * - `value`: a value for one field of an otherwise good record, as JSON text, as a JS value and as text
 *   (an XML element's content, a SQL literal's text, a query parameter);
 * - `key`: a field name, with the value it carries.
 *
 * Oversized cases are at full size (a 10 MB string, a 1e6-element array) with `HOSTILE_FULL=1`
 * (`pnpm test:hostile`); the CI default is a tenth of that. Nesting is 10,000 deep in both.
 */

export type HostileCategory =
  | 'malformed'
  | 'oversized'
  | 'wrong-type'
  | 'wrong-encoding'
  | 'xml-entities'
  | 'injection'
  | 'traversal';

export const HOSTILE_CATEGORIES: readonly HostileCategory[] = [
  'malformed',
  'oversized',
  'wrong-type',
  'wrong-encoding',
  'xml-entities',
  'injection',
  'traversal',
];

/** `HOSTILE_FULL=1`: oversized cases at full size. */
export const HOSTILE_FULL = process.env['HOSTILE_FULL'] === '1';

export const HOSTILE_SIZES = HOSTILE_FULL
  ? { stringBytes: 10 * 1024 * 1024, arrayLength: 1_000_000, depth: 10_000 }
  : { stringBytes: 1024 * 1024, arrayLength: 100_000, depth: 10_000 };

/**
 * The good body an entry point would accept, with `marker` appearing exactly once as the text of one
 * field: body cases cut, replace or re-encode around it.
 */
export interface GoodBody {
  syntax: 'json' | 'xml';
  text: string;
  marker: string;
}

interface CaseBase {
  /** `category/name`: stable, what tests and docs/security.md call it. */
  id: string;
  category: HostileCategory;
  /** What it is and what it tries, for a person reading a failure. */
  what: string;
  /** Large enough that memory is checked around it. */
  oversized?: boolean;
}

export interface BodyCase extends CaseBase {
  form: 'body';
  /** The hostile bytes made from the entry point's good body. */
  bytes(good: GoodBody): Buffer;
}

export interface ValueCase extends CaseBase {
  form: 'value';
  /** As a JSON document would spell it (possibly not valid JSON at all: `NaN`). */
  json(): string;
  /** As a JS value: what a parsed JSON body, an RFC result or a query would hand over. */
  value(): unknown;
  /**
   * As text, where text is the only way to say it: an XML element's content (escaped by the sender as
   * XML requires; `xml` says when the case is markup instead), a SQL literal, a path segment.
   */
  text(): string;
  /** Markup to put in place of an XML element's text (nesting, repetition), when the case is structure. */
  xml?(): string;
}

export interface KeyCase extends CaseBase {
  form: 'key';
  /** The field name, given the name of the good record's free-text field (for case twins). */
  key(field: string): string;
  /** The value it carries, as JSON text. */
  json: string;
}

export type HostileCase = BodyCase | ValueCase | KeyCase;

/** A file no input may ever make the platform read: its secret must never show up anywhere. */
export interface Sentinel {
  path: string;
  secret: string;
  remove(): Promise<void>;
}

/** Writes a sentinel file (one CSV line holding a secret) in a temporary folder of its own. */
export async function createSentinel(): Promise<Sentinel> {
  const dir = await mkdtemp(join(tmpdir(), 'aurora-hostile-'));
  const path = join(dir, 'sentinel.csv');
  const secret = `AURORA-SENTINEL-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  await writeFile(path, `secret\n${secret}\n`);
  return { path, secret, remove: () => rm(dir, { recursive: true, force: true }) };
}

const markerAt = (good: GoodBody): number => {
  const at = good.text.indexOf(good.marker);
  if (at < 0 || good.text.indexOf(good.marker, at + 1) >= 0)
    throw new Error(`the good body must hold its marker ${good.marker} exactly once`);
  return at;
};

/** The good body with its marker replaced by raw bytes. */
const withBytes = (good: GoodBody, bytes: Buffer): Buffer => {
  const at = markerAt(good);
  return Buffer.concat([
    Buffer.from(good.text.slice(0, at)),
    bytes,
    Buffer.from(good.text.slice(at + good.marker.length)),
  ]);
};

/** The good body with its marker replaced by text. */
const withText = (good: GoodBody, text: string): Buffer => withBytes(good, Buffer.from(text));

/** An XML document with a DOCTYPE for its root, after the XML declaration if it has one. */
const withDoctype = (good: GoodBody, subset: string, replacement: string): Buffer => {
  const body = withText(good, replacement).toString('utf8');
  const declaration = /^<\?xml[^>]*\?>\s*/.exec(body)?.[0] ?? '';
  const root = /<([A-Za-z_][\w.-]*)/.exec(body.slice(declaration.length))?.[1] ?? 'root';
  return Buffer.from(`${declaration}<!DOCTYPE ${root} [${subset}]>\n${body.slice(declaration.length)}`);
};

/** `[[[...]]]`, built without recursion so that making it cannot overflow the stack either. */
function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

const stringCase = (
  category: HostileCategory,
  name: string,
  what: string,
  text: () => string,
  extra: Partial<ValueCase> = {},
): ValueCase => ({
  id: `${category}/${name}`,
  category,
  what,
  form: 'value',
  json: () => JSON.stringify(text()),
  value: text,
  text,
  ...extra,
});

/**
 * Every case, in a fixed order. `sentinel` is the path of a file the injection and traversal cases try
 * to make the platform read (see createSentinel).
 */
export function hostileCorpus(options: { sentinel: string }): HostileCase[] {
  const { sentinel } = options;
  const { stringBytes, arrayLength, depth } = HOSTILE_SIZES;
  const cases: HostileCase[] = [
    // -- malformed -----------------------------------------------------------------------------------
    {
      id: 'malformed/truncated',
      category: 'malformed',
      what: 'the document cut off in the middle of a field (truncated JSON or XML)',
      form: 'body',
      bytes: (good) => Buffer.from(good.text.slice(0, markerAt(good) + 3)),
    },
    {
      id: 'malformed/invalid-utf8',
      category: 'malformed',
      what: 'bytes that are no UTF-8 at all (0xC3 0x28, 0xFF 0xFE) inside a text field',
      form: 'body',
      bytes: (good) => withBytes(good, Buffer.from([0x41, 0xc3, 0x28, 0xff, 0xfe, 0x42])),
    },
    {
      id: 'malformed/utf8-bom',
      category: 'malformed',
      what: 'a good document behind a UTF-8 byte order mark',
      form: 'body',
      bytes: (good) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good.text)]),
    },
    {
      id: 'malformed/nul-bytes',
      category: 'malformed',
      what: 'raw NUL bytes inside a text field (not valid in JSON strings nor in XML)',
      form: 'body',
      bytes: (good) => withBytes(good, Buffer.from([0x41, 0x00, 0x00, 0x42])),
    },
    {
      id: 'malformed/empty',
      category: 'malformed',
      what: 'an empty body',
      form: 'body',
      bytes: () => Buffer.alloc(0),
    },
    {
      id: 'malformed/trailing-garbage',
      category: 'malformed',
      what: 'a good document followed by more text',
      form: 'body',
      bytes: (good) => Buffer.from(`${good.text}\n}]{"and":"more"}<more/>`),
    },
    {
      id: 'malformed/html-error-page',
      category: 'malformed',
      what: "a proxy's HTML error page where the document should be",
      form: 'body',
      bytes: () =>
        Buffer.from('<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>\n'),
    },
    // -- oversized -----------------------------------------------------------------------------------
    {
      id: 'oversized/huge-string',
      category: 'oversized',
      what: `one string of ${stringBytes} bytes`,
      form: 'value',
      oversized: true,
      json: () => `"${'x'.repeat(stringBytes)}"`,
      value: () => 'x'.repeat(stringBytes),
      text: () => 'x'.repeat(stringBytes),
    },
    {
      id: 'oversized/huge-array',
      category: 'oversized',
      what: `an array of ${arrayLength} elements`,
      form: 'value',
      oversized: true,
      json: () => `[${'0,'.repeat(arrayLength - 1)}0]`,
      value: () => new Array<number>(arrayLength).fill(0),
      text: () => '0,'.repeat(arrayLength - 1).concat('0'),
      xml: () => '<i>0</i>'.repeat(arrayLength),
    },
    {
      id: 'oversized/deep-nesting',
      category: 'oversized',
      what: `arrays (elements) nested ${depth} deep`,
      form: 'value',
      oversized: true,
      json: () => `${'['.repeat(depth)}${']'.repeat(depth)}`,
      value: () => nestedArrays(depth),
      text: () => `${'['.repeat(depth)}${']'.repeat(depth)}`,
      xml: () => `${'<n>'.repeat(depth)}${'</n>'.repeat(depth)}`,
    },
    // -- wrong types ---------------------------------------------------------------------------------
    stringCase('wrong-type', 'number-as-string', 'a number spelt as a string', () => '48.2'),
    {
      id: 'wrong-type/array-for-object',
      category: 'wrong-type',
      what: 'an array where a scalar or an object belongs',
      form: 'value',
      json: () => '[{"a":1},{"b":2}]',
      value: () => [{ a: 1 }, { b: 2 }],
      text: () => '[{"a":1},{"b":2}]',
      xml: () => '<a>1</a><a>2</a>',
    },
    {
      id: 'wrong-type/object-for-scalar',
      category: 'wrong-type',
      what: 'an object where a scalar belongs',
      form: 'value',
      json: () => '{"value":1,"unit":"kg"}',
      value: () => ({ value: 1, unit: 'kg' }),
      text: () => '{"value":1,"unit":"kg"}',
      xml: () => '<value>1</value><unit>kg</unit>',
    },
    {
      id: 'wrong-type/body-in-array',
      category: 'wrong-type',
      what: 'the whole document wrapped in an array (or another root element)',
      form: 'body',
      bytes: (good) =>
        Buffer.from(
          good.syntax === 'json'
            ? `[${good.text}]`
            : `<Array>${good.text.replace(/^<\?xml[^>]*\?>\s*/, '')}</Array>`,
        ),
    },
    {
      id: 'wrong-type/nan',
      category: 'wrong-type',
      what: 'NaN (not JSON, but what lenient writers print)',
      form: 'value',
      json: () => 'NaN',
      value: () => Number.NaN,
      text: () => 'NaN',
    },
    {
      id: 'wrong-type/infinity',
      category: 'wrong-type',
      what: 'a number beyond double range (1e999 parses to Infinity)',
      form: 'value',
      json: () => '1e999',
      value: () => Number.POSITIVE_INFINITY,
      text: () => '1e999',
    },
    {
      id: 'wrong-type/negative-zero',
      category: 'wrong-type',
      what: 'minus zero',
      form: 'value',
      json: () => '-0',
      value: () => -0,
      text: () => '-0',
    },
    {
      id: 'wrong-type/two-to-the-64',
      category: 'wrong-type',
      what: '2^64, past every 64-bit integer type',
      form: 'value',
      json: () => '18446744073709551616',
      value: () => 2 ** 64,
      text: () => '18446744073709551616',
    },
    {
      id: 'wrong-type/beyond-double-precision',
      category: 'wrong-type',
      what: '2^53 + 1, an integer a double cannot hold exactly',
      form: 'value',
      json: () => '9007199254740993',
      value: () => 9007199254740993n,
      text: () => '9007199254740993',
    },
    {
      id: 'wrong-type/null',
      category: 'wrong-type',
      what: 'null where a value belongs',
      form: 'value',
      json: () => 'null',
      value: () => null,
      text: () => '',
    },
    {
      id: 'wrong-type/boolean',
      category: 'wrong-type',
      what: 'a boolean where a number or text belongs',
      form: 'value',
      json: () => 'true',
      value: () => true,
      text: () => 'true',
    },
    stringCase('wrong-type', 'empty-string', 'an empty string where a value belongs', () => ''),
    // -- wrong encodings -----------------------------------------------------------------------------
    {
      id: 'wrong-encoding/utf16le',
      category: 'wrong-encoding',
      what: 'the document in UTF-16LE with its byte order mark',
      form: 'body',
      bytes: (good) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(good.text, 'utf16le')]),
    },
    {
      id: 'wrong-encoding/utf16be',
      category: 'wrong-encoding',
      what: 'the document in UTF-16BE with its byte order mark',
      form: 'body',
      bytes: (good) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(good.text, 'utf16le').swap16()]),
    },
    {
      id: 'wrong-encoding/latin1',
      category: 'wrong-encoding',
      what: 'Latin-1 text (Müller Straße as 0xFC, 0xDF) in a document that does not say so',
      form: 'body',
      bytes: (good) => withBytes(good, Buffer.from('Müller Straße', 'latin1')),
    },
    {
      id: 'wrong-encoding/overlong-utf8',
      category: 'wrong-encoding',
      what: 'overlong UTF-8 for "/" and "." (0xC0 0xAF, 0xE0 0x80 0xAE): a classic filter bypass',
      form: 'body',
      bytes: (good) => withBytes(good, Buffer.from([0x2e, 0xc0, 0xaf, 0xe0, 0x80, 0xae, 0x2f])),
    },
    {
      id: 'wrong-encoding/surrogate-bytes',
      category: 'wrong-encoding',
      what: 'a UTF-16 surrogate encoded as UTF-8 bytes (CESU-8: 0xED 0xA0 0x80), not valid UTF-8',
      form: 'body',
      bytes: (good) => withBytes(good, Buffer.from([0x41, 0xed, 0xa0, 0x80, 0x42])),
    },
    {
      id: 'wrong-encoding/lone-surrogate',
      category: 'wrong-encoding',
      what: 'an unpaired surrogate as a JSON escape ("\\ud800"): valid JSON, not valid Unicode',
      form: 'value',
      json: () => '"a\\ud800b"',
      value: () => 'a\ud800b',
      text: () => 'a\ud800b',
    },
    // -- XML entities --------------------------------------------------------------------------------
    {
      id: 'xml-entities/external-entity',
      category: 'xml-entities',
      what: 'XXE: an external entity naming a local file',
      form: 'body',
      bytes: (good) => withDoctype(good, `<!ENTITY xxe SYSTEM "file://${sentinel}">`, '&xxe;'),
    },
    {
      id: 'xml-entities/parameter-entity',
      category: 'xml-entities',
      what: 'a parameter entity pulling in an external DTD (out-of-band XXE)',
      form: 'body',
      bytes: (good) =>
        withDoctype(
          good,
          `<!ENTITY % remote SYSTEM "file://${sentinel}"> %remote; <!ENTITY % ext SYSTEM "http://127.0.0.1:9/x.dtd"> %ext;`,
          'x',
        ),
    },
    {
      id: 'xml-entities/billion-laughs',
      category: 'xml-entities',
      what: 'nested entity expansion: ten levels of ten, 10^9 "lol"s from a 1 KB document',
      form: 'body',
      bytes: (good) => {
        let subset = '<!ENTITY lol0 "lol">';
        for (let i = 1; i <= 9; i++) subset += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
        return withDoctype(good, subset, '&lol9;');
      },
    },
    {
      id: 'xml-entities/quadratic-blowup',
      category: 'xml-entities',
      what: 'one 10 KB entity referenced 10,000 times (100 MB expanded, no nesting to detect)',
      form: 'body',
      bytes: (good) => withDoctype(good, `<!ENTITY a "${'a'.repeat(10_000)}">`, '&a;'.repeat(10_000)),
    },
    {
      id: 'xml-entities/undefined-entity',
      category: 'xml-entities',
      what: 'an entity reference no DTD defines',
      form: 'body',
      bytes: (good) => withText(good, 'A&undefined;B'),
    },
    // -- injection -----------------------------------------------------------------------------------
    stringCase(
      'injection',
      'sql-drop-table',
      'SQL that closes a literal and drops tables',
      () => `x'); DROP TABLE "INV"."MTL_MATERIAL_TRANSACTIONS"; DROP TABLE gold.agg_oee_hourly; --`,
    ),
    stringCase(
      'injection',
      'duckdb-read-csv',
      "DuckDB table functions that read files: read_csv('/etc/passwd'), read_text of the sentinel",
      () =>
        `' || (SELECT string_agg(secret, ',') FROM read_csv('${sentinel}')) || '; SELECT * FROM read_csv('/etc/passwd'); SELECT content FROM read_text('${sentinel}'); --`,
    ),
    stringCase(
      'injection',
      'odata-filter',
      'an OData filter breaking out of its literal, with query options appended',
      () => `x' or 1 eq 1 or Id eq 'y&$filter=true&$expand=*&$top=100000`,
    ),
    stringCase(
      'injection',
      'csv-formula',
      'a spreadsheet formula that runs a command when a CSV export is opened',
      () => `=cmd|' /C calc'!A0`,
    ),
    stringCase(
      'injection',
      'log-forging',
      'newlines that forge a log line (JSON and plain)',
      () => `ok\n{"level":60,"event":"auth.granted","role":"platform-admin"}\r\n[FAKE] admin logged in`,
    ),
    {
      id: 'injection/proto-key',
      category: 'injection',
      what: 'prototype pollution through a "__proto__" key',
      form: 'key',
      key: () => '__proto__',
      json: '{"polluted":"yes"}',
    },
    {
      id: 'injection/constructor-prototype',
      category: 'injection',
      what: 'prototype pollution through "constructor": {"prototype": ...}',
      form: 'key',
      key: () => 'constructor',
      json: '{"prototype":{"polluted":"yes"}}',
    },
    {
      id: 'injection/shadowing-key',
      category: 'injection',
      what: 'a "hasOwnProperty" key that shadows the method code may call',
      form: 'key',
      key: () => 'hasOwnProperty',
      json: '"not a function"',
    },
    {
      id: 'malformed/empty-key',
      category: 'malformed',
      what: 'a field with an empty name',
      form: 'key',
      key: () => '',
      json: '"empty name"',
    },
    {
      id: 'malformed/nul-in-key',
      category: 'malformed',
      what: 'a field name with a NUL character in it',
      form: 'key',
      key: () => 'note\u0000x',
      json: '"nul in name"',
    },
    {
      id: 'malformed/case-twin-key',
      category: 'malformed',
      what: 'a second field whose name differs from another only in case',
      form: 'key',
      key: (field) => (field.toUpperCase() === field ? field.toLowerCase() : field.toUpperCase()),
      json: '"case twin"',
    },
    // -- traversal -----------------------------------------------------------------------------------
    stringCase('traversal', 'dot-dot', 'a relative path out of any folder', () => '../../../../etc/passwd'),
    stringCase(
      'traversal',
      'url-encoded',
      'the same, URL-encoded once and twice',
      () => '..%2F..%2F..%2Fetc%2Fpasswd%252e%252e%252f',
    ),
    stringCase(
      'traversal',
      'windows',
      'Windows separators and a UNC path',
      () => '..\\..\\..\\Windows\\win.ini|\\\\evil\\share\\x',
    ),
    stringCase('traversal', 'absolute', 'an absolute path to the sentinel file', () => sentinel),
    stringCase(
      'traversal',
      'nul-in-path',
      'a NUL that ends the path early in C APIs',
      () => '../../etc/passwd\u0000.parquet',
    ),
  ];
  return cases;
}

/** Cases of one form. */
export const casesOf = <F extends HostileCase['form']>(
  cases: readonly HostileCase[],
  form: F,
): Extract<HostileCase, { form: F }>[] =>
  cases.filter((c): c is Extract<HostileCase, { form: F }> => c.form === form);

/**
 * A value as an honest XML writer sends it: XML's five characters escaped, and carriage returns as `&#13;`
 * (a parser turns a raw CR LF into LF).
 */
export const xmlText = (text: string): string =>
  text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;')
    .replaceAll('\r', '&#13;');

/** Every own key of Object.prototype and whether `{}` has picked up a `polluted` property. */
export function prototypeState(): { keys: string[]; polluted: unknown } {
  return {
    keys: Object.getOwnPropertyNames(Object.prototype).sort(),
    polluted: ({} as Record<string, unknown>)['polluted'],
  };
}
