/*
description: >
  One row per production order with its plant-local day (of the actual start), quantities, yield and
  ideal output time: the fact behind production reports.
inputs: [silver.production_orders]
key: [facility_id, order_id]
expectations:
  - not_null: [facility_id, order_id, machine_id, status]
  - range: { column: yield, min: 0, max: 1 }
synapse:
  distribution: HASH(order_id)
*/
SELECT
  facility_id, order_id, machine_id, material_id, status,
  CAST(coalesce(actual_start_at, planned_start_at) AT TIME ZONE 'Europe/Berlin' AS DATE) AS day,
  planned_qty, total_count, good_count, scrap_count,
  CAST(good_count AS DOUBLE) / nullif(total_count, 0) AS yield,
  CAST(total_count * ideal_cycle_time_s AS DECIMAL(18, 3)) AS ideal_output_s,
  ideal_cycle_time_s,
  planned_start_at, planned_end_at, actual_start_at, actual_end_at,
  CAST(epoch_ms(actual_end_at) - epoch_ms(actual_start_at) AS DECIMAL(18, 3)) / 1000 AS duration_s
FROM silver.production_orders
