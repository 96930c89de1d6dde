/*
description: >
  Every machine any source has reported, with its facility; the machine kind is the part of the
  sensors' and orders' view the plant catalogue gives (`aug-m07` -> facility augsburg).
inputs: [silver.machine_states, silver.machine_telemetry, silver.production_orders, reference.facilities]
key: [machine_id]
expectations:
  - not_null: [machine_id, facility_id]
  - { relationship: { column: facility_id, to: reference.facilities.facility_id } }
synapse:
  distribution: REPLICATE
*/
WITH seen AS (
  SELECT facility_id, machine_id FROM silver.machine_states
  UNION SELECT facility_id, machine_id FROM silver.machine_telemetry
  UNION SELECT facility_id, machine_id FROM silver.production_orders
)
SELECT
  s.machine_id,
  s.facility_id,
  CAST(regexp_extract(s.machine_id, '-m(\d+)$', 1) AS INTEGER) AS machine_number,
  (SELECT count(DISTINCT sensor_id) FROM silver.machine_telemetry AS t WHERE t.machine_id = s.machine_id) AS sensors
FROM seen AS s
JOIN reference.facilities AS f USING (facility_id)
