import { z } from 'zod';
import { ApiProblem } from './problem.js';

const payload = z.object({ v: z.literal(1), k: z.array(z.string().max(128)).min(1).max(4) });

/**
 * Keyset cursors: the key of the last row of a page, opaque to the client (base64url JSON). The next
 * page starts after that key, so rows written or removed meanwhile (a new medallion run replacing the
 * warehouse) neither repeat nor shift a page, as offsets would.
 */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify({ v: 1, k: key })).toString('base64url');
}

export function decodeCursor(cursor: string, keyLength: number): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = payload.safeParse(parsed);
  if (!result.success || result.data.k.length !== keyLength)
    throw new ApiProblem(
      400,
      'cursor.invalid',
      'the cursor is not one this API issued; start again without it',
    );
  return result.data.k;
}
