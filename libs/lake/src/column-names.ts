/**
 * Column names for fields a source names (a MES's JSON keys, XML elements, SAP fields it has never been
 * told about), as DuckDB and Parquet can hold them: every field keeps its value under a column of its own,
 * however odd its name. In the order given, each name is kept, except:
 * - empty, or a reserved name in any case (the lineage columns): `prefix` + the name (`vendor`, `vendor_source`);
 * - control characters (DuckDB cannot quote a NUL): escaped as `\uXXXX`;
 * - the same as an earlier column but for case (DuckDB's names are case-insensitive, and so are many
 *   Parquet readers'): `~2`, `~3`... appended (`Material`, `MATERIAL~2`).
 * Reserved names are taken from the start, so no field can take one.
 */
export function safeColumnNames(
  names: Iterable<string>,
  options: { reserved: Iterable<string>; prefix: string },
): Map<string, string> {
  const reserved = new Set([...options.reserved].map((n) => n.toLowerCase()));
  const taken = new Set(reserved);
  const out = new Map<string, string>();
  for (const name of names) {
    if (out.has(name)) continue;
    let column = name === '' || reserved.has(name.toLowerCase()) ? `${options.prefix}${name}` : name;
    column = column.replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
      /[\u0000-\u001f\u007f]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    const base = column;
    for (let n = 2; taken.has(column.toLowerCase()); n++) column = `${base}~${n}`;
    taken.add(column.toLowerCase());
    out.set(name, column);
  }
  return out;
}

/** Sets `row[column] = value` as an own property, so that a column named `__proto__` is data, not the prototype. */
export function setColumn<V>(row: Record<string, V>, column: string, value: V): void {
  if (column === '__proto__')
    Object.defineProperty(row, column, { value, enumerable: true, writable: true, configurable: true });
  else row[column] = value;
}
