/**
 * JSON text of any value, as `JSON.stringify` writes it, except that it never throws:
 * - nesting of any depth (JSON.stringify recurses and overflows the stack somewhere below 10,000 levels,
 *   which a hostile message reaches in 20 KB);
 * - bigints as strings of their decimal digits (JSON.stringify refuses them);
 * - a reference to an enclosing object (a cycle) as the string `"[Circular]"`.
 *
 * Everything else is JSON.stringify's: `toJSON` (Dates, Buffers), undefined and functions left out of
 * objects and `null` in arrays, non-finite numbers as `null`, undefined for a top-level value JSON has no
 * text for. The common case costs one JSON.stringify; the careful path runs only when that throws.
 */
export function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return carefulJsonText(value);
  }
}

type Task = string | { value: unknown } | { leave: object };

const hasToJson = (v: unknown): v is { toJSON(key: string): unknown } =>
  typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function';

/** The value JSON.stringify would write for `value` under `key`: after toJSON, bigints as text. */
function resolve(value: unknown, key: string): unknown {
  const v = hasToJson(value) ? value.toJSON(key) : value;
  return typeof v === 'bigint' ? v.toString() : v;
}

const omitted = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** An explicit stack instead of recursion: depth costs heap, not call stack. */
function carefulJsonText(root: unknown): string | undefined {
  const first = resolve(root, '');
  if (omitted(first)) return undefined;
  const out: string[] = [];
  const ancestors = new Set<object>();
  const tasks: Task[] = [{ value: first }];
  while (tasks.length > 0) {
    const task = tasks.pop()!;
    if (typeof task === 'string') {
      out.push(task);
      continue;
    }
    if ('leave' in task) {
      ancestors.delete(task.leave);
      continue;
    }
    const v = task.value;
    if (typeof v !== 'object' || v === null) {
      out.push(JSON.stringify(v) ?? 'null');
      continue;
    }
    if (ancestors.has(v)) {
      out.push('"[Circular]"');
      continue;
    }
    ancestors.add(v);
    tasks.push({ leave: v });
    if (Array.isArray(v)) {
      tasks.push(']');
      for (let i = v.length - 1; i >= 0; i--) {
        const item = resolve(v[i], String(i));
        tasks.push(omitted(item) ? 'null' : { value: item });
        if (i > 0) tasks.push(',');
      }
      tasks.push('[');
      continue;
    }
    const fields: Task[] = [];
    for (const key of Object.keys(v)) {
      const field = resolve((v as Record<string, unknown>)[key], key);
      if (omitted(field)) continue;
      if (fields.length > 0) fields.push(',');
      fields.push(`${JSON.stringify(key)}:`, { value: field });
    }
    tasks.push('}');
    for (let i = fields.length - 1; i >= 0; i--) tasks.push(fields[i]!);
    tasks.push('{');
  }
  return out.join('');
}
