/*
description: >
  One row per inspection, with its hour, plant-local day, deviation from nominal and position in the
  tolerance band (-1 at LSL, 0 at nominal, +1 at USL): the fact behind defect rates, Pareto and SPC.
inputs: [silver.quality_measurements]
key: [facility_id, measurement_id]
expectations:
  - not_null: [facility_id, measurement_id, machine_id, characteristic, value, day]
  - condition: { name: inside the band when ok, sql: "NOT ok OR band_position BETWEEN -1 AND 1" }
synapse:
  distribution: HASH(machine_id)
*/
SELECT
  facility_id, measurement_id, order_id, machine_id, material_id, characteristic,
  measured_at,
  date_trunc('hour', measured_at) AS hour_start,
  CAST(measured_at AT TIME ZONE 'Europe/Berlin' AS DATE) AS day,
  value, nominal, lsl, usl,
  round(value - nominal, 7) AS deviation,
  CASE WHEN usl > lsl THEN round((value - (usl + lsl) / 2) / ((usl - lsl) / 2), 6) END AS band_position,
  ok, defect_code
FROM silver.quality_measurements
