/** The three entities every MES serves, by their bronze names. */
export type MesEntity = 'production_orders' | 'machine_states' | 'quality_measurements';
export const MES_ENTITIES: readonly MesEntity[] = [
  'production_orders',
  'machine_states',
  'quality_measurements',
];

/**
 * Ways a stand-in can misbehave, for tests and fault drills:
 * - `http_500`: a server error with the product's error body
 * - `unauthorized`: 401 whatever the credentials
 * - `timeout`: the request is accepted and never answered
 * - `slow`: answered after `delayMs` (default 2,000 ms)
 * - `truncated`: the connection drops halfway through the body
 * - `malformed`: a syntactically broken body (JSON or XML)
 * - `repeat_page`: the next page link/cursor points at the page just served, once
 * - `new_field`: records carry a field the connector has never seen
 */
export type MesFault =
  | 'http_500'
  | 'unauthorized'
  | 'timeout'
  | 'slow'
  | 'truncated'
  | 'malformed'
  | 'repeat_page'
  | 'new_field';

export const MES_FAULTS: readonly MesFault[] = [
  'http_500',
  'unauthorized',
  'timeout',
  'slow',
  'truncated',
  'malformed',
  'repeat_page',
  'new_field',
];

export interface FaultRule {
  fault: MesFault;
  /** Only requests for this entity; default all data requests (token requests are never faulted). */
  entity?: MesEntity;
  /** How many requests it applies to; default every request until cleared. */
  times?: number;
  /** For `slow`. */
  delayMs?: number;
}

/** The faults a stand-in applies to its next requests, first matching rule first. */
export class MesFaults {
  #rules: { rule: FaultRule; left: number }[] = [];

  /**
   * How far the MES server's clock is off, in ms (negative: behind): every time it serves and every
   * "changed since" it filters on is read on that clock (withClockSkew). Kept until cleared.
   */
  clockSkewMs = 0;

  inject(rule: FaultRule): this {
    this.#rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
    return this;
  }

  clear(): void {
    this.#rules = [];
    this.clockSkewMs = 0;
  }

  /** The fault for one data request, consuming one use of its rule. */
  take(entity: MesEntity): FaultRule | undefined {
    const hit = this.#rules.find(
      (r) => r.left > 0 && (r.rule.entity === undefined || r.rule.entity === entity),
    );
    if (!hit) return undefined;
    hit.left--;
    return hit.rule;
  }
}

/** A running MES stand-in: an HTTP server on loopback speaking one product's protocol. */
export interface MesStandIn {
  readonly vendor: 'simatic-it' | 'hydra' | 'regensburg-mes';
  readonly facilityId: 'augsburg' | 'ingolstadt' | 'regensburg';
  /** Base URL, e.g. `http://127.0.0.1:41234`; the connector's configured URL. */
  readonly url: string;
  /** The credentials it accepts, by secret name (`mes-hydra-api-key`...) plus non-secret settings. */
  readonly credentials: Readonly<Record<string, string>>;
  readonly faults: MesFaults;
  /** Data requests served so far (token requests excluded), for tests. */
  readonly stats: { requests: number };
  close(): Promise<void>;
}
