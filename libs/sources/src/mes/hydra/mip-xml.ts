import { SourceDataError } from '@aurora/core';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * Reading HYDRA MIP XML safely and without loss. Documents with a DOCTYPE or ENTITY declaration are refused
 * before any parser sees them: fast-xml-parser 5 reads internal DTD subsets and expands their entities, so
 * XXE and entity-expansion attacks are stopped here, not left to its defaults. The parser coerces nothing and
 * decodes no entities itself; this module decodes only XML's five predefined entities and character
 * references, outside CDATA, so every value arrives exactly as the MES meant it.
 */

/** Where a body came from, for the details of a SourceDataError. */
export interface HydraBodyContext {
  status: number;
  request: string;
}

/**
 * List elements by container name, e.g. `{ Postings: 'Posting' }`: the container lands as the JSON text of an
 * array of its items whatever their number (`[]`, `[{..}]`, `[{..},{..}]`), so a list has one shape in bronze.
 * Without this, one item would land as an object and none as an empty string.
 */
export type HydraListElements = Readonly<Record<string, string>>;

export interface HydraMipPage {
  /** One entry per `<Record>`: field name -> text. */
  records: Record<string, string>[];
  /** Undefined when the listing has ended (empty or missing `<NextCursor>`). */
  nextCursor: string | undefined;
}

/** At most this much of a body goes into error details. */
export const HYDRA_BODY_DETAIL_LIMIT = 64 * 1024;

/**
 * The most tags (`<` characters) a page may hold. The parser builds a few objects per element, some 500
 * bytes of heap each: 8 MB of `<i>0</i>` took 480 MB. A page of 1,000 records of 200 elements stays well
 * below this; a body beyond it is refused before it is parsed.
 */
export const HYDRA_MAX_TAGS = 500_000;

const DECLARATION = /<!\s*(DOCTYPE|ENTITY)/i;
/** A character XML 1.0 does not allow anywhere in a document (NUL and most C0 controls, U+FFFE/F, lone surrogates). */
const NOT_XML_CHAR =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A node of fast-xml-parser's `preserveOrder` output. */
type OrderedNode = Record<string, unknown>;

const TEXT = '#text';
const CDATA = '#cdata';
const ATTRIBUTES = ':@';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  cdataPropName: CDATA,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: false,
  // Keep names such as `hasOwnProperty` as they are (the default prefixes them with `__`): with preserveOrder
  // every element is its own small object, and fields are built with Object.fromEntries. `__proto__`,
  // `constructor` and `prototype` are still refused by the parser.
  onDangerousProperty: (name: string) => name,
});

/** A structure nested inside one field, before it becomes JSON text. */
type XmlValue = string | { [name: string]: XmlValue | XmlValue[] };

function dataError(message: string, body: string, context: HydraBodyContext): SourceDataError {
  return new SourceDataError(message, {
    details: {
      status: context.status,
      request: context.request,
      body: body.slice(0, HYDRA_BODY_DETAIL_LIMIT),
    },
  });
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

const isXmlChar = (cp: number) =>
  cp === 0x9 ||
  cp === 0xa ||
  cp === 0xd ||
  (cp >= 0x20 && cp <= 0xd7ff) ||
  (cp >= 0xe000 && cp <= 0xfffd) ||
  (cp >= 0x10000 && cp <= 0x10ffff);

/** Decodes the predefined entities and character references; anything else is an undefined entity. */
function decodeEntities(raw: string): string {
  return raw.replace(/&([^;&\s]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new Error(`unterminated entity reference "${whole}"`);
    const predefined = PREDEFINED[name];
    if (predefined !== undefined) return predefined;
    const numeric = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(name);
    if (numeric) {
      const cp = numeric[1] !== undefined ? Number.parseInt(numeric[1], 16) : Number(numeric[2]);
      if (isXmlChar(cp)) return String.fromCodePoint(cp);
      throw new Error(`character reference "${whole}" is not an XML character`);
    }
    throw new Error(`undefined entity "${whole}"`);
  });
}

const elementName = (node: OrderedNode): string | undefined =>
  Object.keys(node).find((k) => k !== ATTRIBUTES && k !== TEXT && k !== CDATA);

const childrenOf = (node: OrderedNode, name: string): OrderedNode[] => node[name] as OrderedNode[];

const attributesOf = (node: OrderedNode): Record<string, string> =>
  Object.fromEntries(
    Object.entries((node[ATTRIBUTES] as Record<string, string> | undefined) ?? {}).map(([k, v]) => [
      k,
      decodeEntities(v),
    ]),
  );

/** The element's own character data: text (entities decoded) and CDATA (verbatim), in document order. */
function textOf(children: OrderedNode[]): string {
  let text = '';
  for (const child of children) {
    if (TEXT in child) text += decodeEntities(String(child[TEXT]));
    else if (CDATA in child)
      text += (child[CDATA] as OrderedNode[]).map((c) => String(c[TEXT] ?? '')).join('');
  }
  return text;
}

const elementsOf = (children: OrderedNode[]) =>
  children.flatMap((node) => {
    const name = elementName(node);
    return name === undefined ? [] : [{ name, node, children: childrenOf(node, name) }];
  });

/** An element with structure as a plain value: attributes as `@name`, character data as `#text`. */
function structureOf(node: OrderedNode, children: OrderedNode[]): XmlValue {
  const attributes = attributesOf(node);
  const elements = elementsOf(children);
  const text = textOf(children);
  if (elements.length === 0 && Object.keys(attributes).length === 0) return text;
  // Built from entries so that no element name (`__proto__`...) can reach a prototype.
  const out: [string, XmlValue | XmlValue[]][] = Object.entries(attributes).map(([k, v]) => [`@${k}`, v]);
  // Whitespace between child elements is layout, not data.
  if (elements.length === 0 || text.trim() !== '') out.push([TEXT, text]);
  for (const [name, group] of groupByName(elements)) {
    const values = group.map((e) => structureOf(e.node, e.children));
    out.push([name, values.length === 1 ? values[0]! : values]);
  }
  return Object.fromEntries(out);
}

function groupByName<T extends { name: string }>(items: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.name);
    if (group) group.push(item);
    else groups.set(item.name, [item]);
  }
  return groups;
}

/**
 * One `<Record>` as fields, without loss: each child element's text under its name, its attributes as
 * `Element@attribute`; an element with child elements, or one that repeats, as the JSON text of its structure
 * (`{"@attr": .., "#text": .., "Child": ..}`, an array when repeated). Empty elements are empty strings.
 */
function recordFields(
  node: OrderedNode,
  children: OrderedNode[],
  lists: HydraListElements,
): Record<string, string> {
  if (textOf(children).trim() !== '') throw new Error('<Record> holds text outside its elements');
  const fields: [string, string][] = Object.entries(attributesOf(node)).map(([k, v]) => [`Record@${k}`, v]);
  for (const [name, group] of groupByName(elementsOf(children))) {
    const only = group.length === 1 ? group[0]! : undefined;
    const item = Object.hasOwn(lists, name) ? lists[name] : undefined;
    if (item !== undefined) {
      fields.push([name, JSON.stringify(listItems(name, item, group))]);
    } else if (only && elementsOf(only.children).length === 0) {
      fields.push([name, textOf(only.children)]);
      for (const [k, v] of Object.entries(attributesOf(only.node))) fields.push([`${name}@${k}`, v]);
    } else {
      const values = group.map((e) => structureOf(e.node, e.children));
      fields.push([name, JSON.stringify(values.length === 1 ? values[0] : values)]);
    }
  }
  return Object.fromEntries(fields);
}

/** A declared list container's items; anything else in or about the container is not the list's shape. */
function listItems(
  name: string,
  item: string,
  group: { node: OrderedNode; children: OrderedNode[] }[],
): XmlValue[] {
  if (group.length !== 1)
    throw new Error(`<${name}> occurs ${group.length} times in a record, expected once`);
  const { node, children } = group[0]!;
  if (Object.keys(attributesOf(node)).length > 0) throw new Error(`<${name}> has attributes`);
  if (textOf(children).trim() !== '') throw new Error(`<${name}> holds text outside <${item}> elements`);
  return elementsOf(children).map((e) => {
    if (e.name !== item) throw new Error(`<${name}> holds <${e.name}>, expected <${item}>`);
    return structureOf(e.node, e.children);
  });
}

/** Refuses DTDs, checks well-formedness, parses; the single root element and its children. */
function parseDocument(
  body: string,
  context: HydraBodyContext,
): { name: string; node: OrderedNode; children: OrderedNode[] } {
  if (DECLARATION.test(body)) {
    throw dataError(
      'HYDRA MIP response refused: it contains a DOCTYPE or ENTITY declaration (external entities and entity expansion are not accepted)',
      body,
      context,
    );
  }
  let tags = 0;
  for (let at = body.indexOf('<'); at >= 0; at = body.indexOf('<', at + 1)) {
    if (++tags > HYDRA_MAX_TAGS)
      throw dataError(
        `HYDRA MIP response has more than ${HYDRA_MAX_TAGS} tags: refused rather than parsed into memory (ask for smaller pages)`,
        body,
        context,
      );
  }
  // The validator lets raw NULs through; a document holding one is not XML, and its text is not what was meant.
  const stray = NOT_XML_CHAR.exec(body);
  if (stray) {
    const code = stray[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw dataError(
      `HYDRA MIP response is not well-formed XML: character U+${code} at offset ${stray.index} is not allowed in XML`,
      body,
      context,
    );
  }
  const valid = XMLValidator.validate(body);
  if (valid !== true) {
    throw dataError(
      `HYDRA MIP response is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`,
      body,
      context,
    );
  }
  let parsed: OrderedNode[];
  try {
    parsed = parser.parse(body) as OrderedNode[];
  } catch (error) {
    // fast-xml-parser refuses some documents the validator lets through (e.g. an element named __proto__).
    throw dataError(
      `HYDRA MIP response could not be parsed: ${error instanceof Error ? error.message : String(error)}`,
      body,
      context,
    );
  }
  const top = elementsOf(parsed);
  if (top.length !== 1)
    throw dataError('HYDRA MIP response must have exactly one root element', body, context);
  return top[0]!;
}

/**
 * A MIP service response (`<MipResponse service=".."><Records><Record>..</Record></Records><NextCursor/>`) as
 * records of text fields (see `recordFields`) and the next cursor; `lists` names the elements that always
 * land as JSON arrays. Throws SourceDataError for anything else: a DTD, broken or truncated XML, another root
 * or service, unexpected structure (a declared list holding anything but its items), undefined entities.
 */
export function readHydraMipPage(
  body: string,
  service: string,
  context: HydraBodyContext,
  lists: HydraListElements = {},
): HydraMipPage {
  const root = parseDocument(body, context);
  const shape = (message: string) => dataError(`HYDRA MIP ${service} response: ${message}`, body, context);
  try {
    if (root.name !== 'MipResponse') throw shape(`root element is <${root.name}>, expected <MipResponse>`);
    const served = attributesOf(root.node)['service'];
    if (served !== service) throw shape(`it answers for service "${served ?? ''}"`);
    const parts = groupByName(elementsOf(root.children));
    const recordsElements = parts.get('Records') ?? [];
    if (recordsElements.length !== 1) throw shape('expected exactly one <Records> element');
    const cursors = parts.get('NextCursor') ?? [];
    if (cursors.length > 1) throw shape('more than one <NextCursor> element');
    const list = recordsElements[0]!.children;
    if (textOf(list).trim() !== '') throw shape('<Records> holds text outside <Record> elements');
    const records = elementsOf(list).map((e) => {
      if (e.name !== 'Record') throw shape(`<Records> holds <${e.name}>, expected <Record>`);
      return recordFields(e.node, e.children, lists);
    });
    const cursorElement = cursors[0];
    if (cursorElement && elementsOf(cursorElement.children).length > 0) {
      throw shape('<NextCursor> must hold text only');
    }
    const nextCursor = cursorElement ? textOf(cursorElement.children).trim() : '';
    return { records, nextCursor: nextCursor === '' ? undefined : nextCursor };
  } catch (error) {
    if (error instanceof SourceDataError) throw error;
    throw shape(error instanceof Error ? error.message : String(error));
  }
}

/** The `code` and `message` of a MIP `<Error/>` body, if it is one (never throws). */
export function readHydraMipError(body: string): { code: string; message: string } | undefined {
  try {
    const root = parseDocument(body, { status: 0, request: '' });
    if (root.name !== 'Error') return undefined;
    const attributes = attributesOf(root.node);
    return { code: attributes['code'] ?? '', message: attributes['message'] ?? '' };
  } catch {
    return undefined;
  }
}
