import type { Lake, LakeObjectInfo, PutOptions } from './lake.js';

/**
 * Commits a new file whose name carries a timestamp, never replacing another writer's file: when the name
 * is taken (two batches in one millisecond), the microsecond digit of the name moves on.
 */
export async function putNew(
  lake: Lake,
  pathFor: (micros: number) => string,
  content: Uint8Array,
  options: Omit<PutOptions, 'overwrite'> = {},
): Promise<LakeObjectInfo> {
  for (let micros = 0; ; micros++) {
    try {
      return await lake.put(pathFor(micros), content, options);
    } catch (error) {
      if ((error as { code?: string }).code !== 'lake.conflict' || micros >= 999) throw error;
    }
  }
}
