import { type Clock, jsonText } from '@aurora/core';
import type { Lake } from './lake.js';
import { bronzePaths } from './layout.js';
import { putNew } from './put-new.js';

/** One record that failed validation, kept with why. `payload` is the record exactly as received. */
export interface DeadLetter {
  reason: string;
  /** A stable machine-readable class of failure, e.g. `iot.invalid_json`. */
  code: string;
  payload: unknown;
  /** Where it came from: topic, device, sequence number, file, row number... */
  context?: Record<string, unknown>;
}

export interface DeadLetterBatch {
  path: string;
  count: number;
}

/** Bytes that are not valid UTF-8 are kept as base64 so that nothing is lost on the way to JSON. */
export function describePayload(payload: unknown): unknown {
  if (payload instanceof Uint8Array) {
    const text = Buffer.from(payload).toString('utf8');
    return Buffer.from(text, 'utf8').equals(Buffer.from(payload))
      ? text
      : { base64: Buffer.from(payload).toString('base64') };
  }
  return payload;
}

/**
 * The JSON lines of a dead-letter file: each line self-describing (reason, code, source, batch, when,
 * context, and the payload exactly as received, bytes that are not UTF-8 as base64).
 */
export function deadLetterContent(
  source: string,
  batchId: string,
  at: Date,
  letters: readonly DeadLetter[],
): Buffer {
  // jsonText: a payload nested deeper than JSON.stringify recurses, or holding a bigint, is still kept.
  const lines = letters.map((l) =>
    jsonText({
      reason: l.reason,
      code: l.code,
      source,
      batch_id: batchId,
      dead_lettered_at: at.toISOString(),
      context: l.context ?? {},
      payload: describePayload(l.payload),
    }),
  );
  return Buffer.from(`${lines.join('\n')}\n`);
}

/**
 * Writes rejected records to `bronze/_deadletter/{source}/...` as JSON lines: one file per batch, committed
 * atomically like every lake file, each line self-describing (reason, code, payload, context, batch).
 */
export async function writeDeadLetters(
  deps: { lake: Lake; clock: Clock },
  source: string,
  batchId: string,
  letters: readonly DeadLetter[],
): Promise<DeadLetterBatch | undefined> {
  if (letters.length === 0) return undefined;
  const at = deps.clock.now();
  const content = deadLetterContent(source, batchId, at, letters);
  const file = await putNew(deps.lake, (micros) => bronzePaths.deadLetter(source, at, micros), content, {
    contentType: 'application/x-ndjson',
    metadata: { rows: String(letters.length), batch_id: batchId },
  });
  return { path: file.path, count: letters.length };
}
