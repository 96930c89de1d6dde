/**
 * A System Change Number as a string of decimal digits ("324567897").
 *
 * Why a string: SCNs are Oracle NUMBERs and node-oracledb returns NUMBER as a JS number, exact only up to
 * 2^53, while 12.2+ databases allow 8-byte SCNs; so the contents query fetches them as text
 * (`TO_CHAR(SCN)`, see {@link LOGMINER_CONTENTS_SELECT_LIST}). Not a bigint: a bigint does not survive
 * `JSON.stringify`, and SCNs travel in JSON checkpoints, dead-letter records and logs. Canonical strings
 * (no sign, no leading zeros) compare by length then lexically, which needs no allocation on the hot path.
 */
export type Scn = string;

/** True when `value` is a canonical SCN: decimal digits, no sign, no leading zero (except "0" itself). */
export function isScn(value: unknown): value is Scn {
  if (typeof value !== 'string' || value.length === 0 || value.length > 40) return false;
  if (value.length > 1 && value.charCodeAt(0) === 48) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Orders two canonical SCNs numerically: negative when `a < b`, 0 when equal, positive when `a > b`. */
export function compareScn(a: Scn, b: Scn): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
