import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** A customer account with its contact, as gold.dim_customer holds it (contact values sealed or not). */
export interface FixtureCustomer {
  cust_account_id: string;
  account_number: string;
  name: string;
  country: string | null;
  contact_party_id: string | null;
  contact_first_name: string | null;
  contact_last_name: string | null;
  contact_email: string | null;
  contact_phone: string | null;
}

/** What a hand-made warehouse holds: alerts are (facility, material) keys; customers as given; the rest is fixed. */
export interface FixtureWarehouseOptions {
  alerts: readonly { facility_id: string; material_id: string; severity?: 'critical' | 'high' | 'medium' }[];
  /** gold.dim_customer, and their contacts in silver.customer_contacts (both empty when omitted). */
  customers?: readonly FixtureCustomer[];
}

const CUSTOMER_COLUMNS = [
  'cust_account_id',
  'account_number',
  'name',
  'country',
  'contact_party_id',
  'contact_first_name',
  'contact_last_name',
  'contact_email',
  'contact_phone',
] as const;

/**
 * A small warehouse with the gold and silver tables the API reads, in their real column names and types,
 * written for tests and the bench (the real one takes a whole medallion run). Like a medallion run, it is
 * built beside the target and renamed over it, so a reader holding the old file is not disturbed.
 *
 * OEE: aug-m01 has 2 hours on 2026-11-23 (06:00 and 07:00 UTC): 3,600 s planned, 3,000 s run, 2,400 s
 * ideal output, 100 parts of which 90 good; then 1,800 / 900 / 900 s and 1,000 parts (990 good).
 * aug-m02 one hour: 3,600 / 3,600 / 3,600 s, 10 parts, 5 good. ing-m01 and reg-m01 one hour each.
 */
export async function buildFixtureWarehouse(file: string, options: FixtureWarehouseOptions): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const building = `${file}.${process.pid}.${Date.now()}.building`;
  const instance = await DuckDBInstance.create(building);
  const c = await instance.connect();
  try {
    await c.run("SET TimeZone = 'UTC'");
    await c.run('CREATE SCHEMA gold; CREATE SCHEMA silver;');
    await c.run(`CREATE TABLE gold.agg_oee_hourly AS SELECT * FROM (VALUES
      ('augsburg', 'aug-m01', TIMESTAMPTZ '2026-11-23 06:00:00+00', 3600.000, 3000.000, 2400.000, 100, 90, true),
      ('augsburg', 'aug-m01', TIMESTAMPTZ '2026-11-23 07:00:00+00', 1800.000, 900.000, 900.000, 1000, 990, false),
      ('augsburg', 'aug-m02', TIMESTAMPTZ '2026-11-23 06:00:00+00', 3600.000, 3600.000, 3600.000, 10, 5, true),
      ('ingolstadt', 'ing-m01', TIMESTAMPTZ '2026-11-23 06:00:00+00', 3600.000, 1800.000, 1800.000, 50, 50, true),
      ('regensburg', 'reg-m01', TIMESTAMPTZ '2026-11-23 06:00:00+00', 3600.000, 3600.000, 1800.000, 40, 30, true)
    ) AS t(facility_id, machine_id, hour_start, planned_time_s, run_time_s, ideal_output_s, total_count, good_count, is_complete)`);
    await c.run(`CREATE TABLE gold.dim_machine AS SELECT * FROM (VALUES
      ('aug-m01', 'augsburg'), ('aug-m02', 'augsburg'), ('ing-m01', 'ingolstadt'), ('reg-m01', 'regensburg')
    ) AS t(machine_id, facility_id)`);
    await c.run(`CREATE TABLE gold.inventory_alerts (facility_id VARCHAR, material_id VARCHAR, snapshot_date DATE,
      unrestricted_qty DOUBLE, min_stock DOUBLE, shortfall DOUBLE, days_of_cover DOUBLE, severity VARCHAR)`);
    const appender = await c.createAppender('inventory_alerts', 'gold');
    for (const a of options.alerts) {
      appender.appendVarchar(a.facility_id);
      appender.appendVarchar(a.material_id);
      appender.appendVarchar('2026-11-23');
      appender.appendDouble(10);
      appender.appendDouble(50);
      appender.appendDouble(40);
      appender.appendDouble(2.5);
      appender.appendVarchar(a.severity ?? 'high');
      appender.endRow();
    }
    appender.closeSync();
    await c.run(`CREATE TABLE gold.agg_defect_rates_daily AS SELECT * FROM (VALUES
      ('augsburg', 'aug-m01', 'AUR-1', DATE '2026-11-22', 100, 2, 10, 1),
      ('augsburg', 'aug-m01', 'AUR-1', DATE '2026-11-23', 300, 3, 30, 1),
      ('augsburg', 'aug-m02', 'AUR-2', DATE '2026-11-23', 100, 5, 10, 2),
      ('ingolstadt', 'ing-m01', 'AUR-1', DATE '2026-11-23', 100, 1, 10, 0)
    ) AS t(facility_id, machine_id, material_id, day, total_count, scrap_count, measured, not_ok)`);
    await c.run(`CREATE TABLE gold.fact_quality AS SELECT * FROM (VALUES
      ('augsburg', 'aug-m01', 'AUR-1', 'bore_diameter', DATE '2026-11-23', false, 'D-SCRATCH'),
      ('augsburg', 'aug-m01', 'AUR-1', 'bore_diameter', DATE '2026-11-23', false, 'D-SCRATCH'),
      ('augsburg', 'aug-m02', 'AUR-2', 'flatness', DATE '2026-11-23', false, 'D-DENT'),
      ('augsburg', 'aug-m02', 'AUR-2', 'flatness', DATE '2026-11-23', false, NULL),
      ('augsburg', 'aug-m02', 'AUR-2', 'flatness', DATE '2026-11-23', true, NULL)
    ) AS t(facility_id, machine_id, material_id, characteristic, day, ok, defect_code)`);
    await c.run(`CREATE TABLE gold.spc_xbar_r AS SELECT
        'augsburg' AS facility_id, 'aug-m01' AS machine_id, 'AUR-1' AS material_id, 'bore_diameter' AS characteristic,
        CAST(i AS BIGINT) AS subgroup,
        TIMESTAMPTZ '2026-11-23 06:00:00+00' + to_minutes(CAST(i * 10 AS BIGINT)) AS first_at,
        TIMESTAMPTZ '2026-11-23 06:05:00+00' + to_minutes(CAST(i * 10 AS BIGINT)) AS last_at,
        CASE WHEN i = 3 THEN 10.5 ELSE 10.0 + i / 1000 END AS xbar, 0.02 AS r, 10.0 AS center_line,
        10.03 AS ucl_x, 9.97 AS lcl_x, 0.02 AS r_bar, 0.042 AS ucl_r, 0.0 AS lcl_r,
        i = 3 AS rule_1, false AS rule_2, false AS rule_3, false AS rule_4
      FROM range(6) AS t(i)`);
    await c.run(`CREATE TABLE gold.spc_capability AS SELECT 'augsburg' AS facility_id, 'aug-m01' AS machine_id,
      'AUR-1' AS material_id, 'bore_diameter' AS characteristic, 30 AS measurements, 6 AS subgroups, 10.01 AS mean,
      9.9 AS lsl, 10.1 AS usl, 1.4 AS cp, 1.2 AS cpk, 1.3 AS pp, 1.1 AS ppk`);
    await c.run(`CREATE TABLE silver.machine_telemetry AS SELECT
        'aug-m01-s' || (i % 2) AS sensor_id, 'augsburg' AS facility_id, 'aug-m01' AS machine_id,
        CASE WHEN i % 2 = 0 THEN 'temperature' ELSE 'vibration' END AS metric,
        CASE WHEN i % 2 = 0 THEN 'C' ELSE 'mm/s' END AS unit,
        TIMESTAMPTZ '2026-11-23 06:00:00+00' + to_minutes(CAST(i // 2 AS BIGINT)) AS window_start,
        CAST(15 AS BIGINT) AS sample_count, 20.0 AS value_min, 40.0 AS value_max,
        CAST(450 AS DECIMAL(38, 6)) AS value_sum, i = 10 AS is_spike, i = 11 AS is_flatline
      FROM range(100) AS t(i)`);
    await c.run(
      `CREATE TABLE gold.dim_customer (${CUSTOMER_COLUMNS.map((name) => `${name} VARCHAR`).join(', ')})`,
    );
    await c.run(`CREATE TABLE silver.customer_contacts (party_id VARCHAR, first_name VARCHAR,
      last_name VARCHAR, email VARCHAR, phone VARCHAR, country VARCHAR)`);
    const customers = await c.createAppender('dim_customer', 'gold');
    const contacts = await c.createAppender('customer_contacts', 'silver');
    const text = (appender: typeof customers, value: string | null) =>
      value === null ? appender.appendNull() : appender.appendVarchar(value);
    for (const customer of options.customers ?? []) {
      for (const column of CUSTOMER_COLUMNS) text(customers, customer[column]);
      customers.endRow();
      if (customer.contact_party_id === null) continue;
      for (const value of [
        customer.contact_party_id,
        customer.contact_first_name,
        customer.contact_last_name,
        customer.contact_email,
        customer.contact_phone,
        customer.country,
      ])
        text(contacts, value);
      contacts.endRow();
    }
    customers.closeSync();
    contacts.closeSync();
    await c.run(`CREATE TABLE silver.machine_states AS SELECT * FROM (VALUES
      ('augsburg', 'aug-m01', 'running', 'productive', TIMESTAMPTZ '2026-11-23 06:00:00+00', TIMESTAMPTZ '2026-11-23 06:45:00+00'),
      ('augsburg', 'aug-m01', 'failure', 'availability_loss', TIMESTAMPTZ '2026-11-23 06:45:00+00', TIMESTAMPTZ '2026-11-23 07:00:00+00'),
      ('augsburg', 'aug-m01', 'break', 'planned_stop', TIMESTAMPTZ '2026-11-23 07:00:00+00', TIMESTAMPTZ '2026-11-23 07:30:00+00')
    ) AS t(facility_id, machine_id, state, loss_class, start_at, observed_until)`);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
  await rename(building, file);
}
