import type { ApiContext } from './context.js';
import { customersEndpoint } from './customers.js';
import type { Endpoint } from './endpoint.js';
import { freshnessEndpoint } from './freshness.js';
import { inventoryAlertsEndpoint } from './inventory.js';
import { machineHealthEndpoint } from './machine-health.js';
import { oeeEndpoint } from './oee.js';
import {
  privacyCertificateEndpoint,
  privacyRequestEndpoint,
  privacyRequestsEndpoint,
  verifyCertificateEndpoint,
} from './privacy.js';
import { qualityReportEndpoint } from './quality.js';

/** The API's data endpoints under /api/v1 (health, openapi.json and the JWKS are the Function App's own). */
export const apiEndpoints = (ctx: ApiContext): Endpoint[] => [
  oeeEndpoint(ctx),
  inventoryAlertsEndpoint(ctx),
  qualityReportEndpoint(ctx),
  machineHealthEndpoint(ctx),
  freshnessEndpoint(ctx),
  customersEndpoint(ctx),
  privacyRequestEndpoint(ctx),
  privacyRequestsEndpoint(ctx),
  privacyCertificateEndpoint(ctx),
  verifyCertificateEndpoint(ctx),
];
