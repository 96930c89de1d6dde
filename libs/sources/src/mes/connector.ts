import type { Clock, SecretProvider, Sleep } from '@aurora/core';
import type { FacilityId, MesEntity } from '@aurora/plant';

export type { MesEntity } from '@aurora/plant';

/** A vendor field's value as landed: scalars as delivered; nested JSON and XML structure as text. */
export type MesValue = string | number | boolean | null;

/** One record as the MES delivered it, plus what the platform needs to deduplicate it. */
export interface MesRecord {
  /**
   * The vendor's fields, kept without loss: top-level names as the product spells them; JSON scalars as
   * they are; nested objects and arrays as their JSON text; XML elements as their text, attributes as
   * `Element@attribute`, repeated or nested elements as JSON text.
   */
  fields: Record<string, MesValue>;
  /** The vendor's identity of the record, stable across versions (Siemens `Id`, Hydra order + operation...). */
  key: string;
  /** When the MES last changed the record, in UTC: the sequence silver keeps the latest by. */
  modifiedAt: Date;
}

export interface MesPage {
  records: MesRecord[];
  /** The request that produced the page (method and URL, no credentials), for logs and dead letters. */
  request: string;
}

/** Records last modified in [from, to). */
export interface MesWindow {
  from: Date;
  to: Date;
}

/**
 * One MES product's protocol. `fetch` yields the pages of one entity for a window, in the API's order.
 * It throws SourceUnavailableError for anything worth retrying (network errors, timeouts, 5xx, 401 after a
 * token refresh) and SourceDataError for a body it cannot read (details.body holds the raw text, cut at
 * 64 KiB); the caller retries, then dead-letters.
 */
export interface MesConnector {
  readonly vendor: 'simatic-it' | 'hydra' | 'regensburg-mes';
  readonly facilityId: FacilityId;
  fetch(entity: MesEntity, window: MesWindow, options?: { signal?: AbortSignal }): AsyncIterable<MesPage>;
}

/** What every connector is built from (plus its own settings). */
export interface MesConnectorDeps {
  /** Base URL of the MES, e.g. `https://mes-aug.plant.local`. */
  baseUrl: string;
  secrets: SecretProvider;
  clock: Clock;
  /** Per HTTP request; default 30 s. */
  timeoutMs?: number;
  /** Records per page where the API pages; default 500. */
  pageSize?: number;
  /** For waits inside the protocol (none today); tests inject a fake. */
  sleep?: Sleep;
}
