/*
description: >
  Per facility, the span of time its MES bronze covers completely: from the start of the latest first
  window of its entities to the end of the earliest last window (each connector reads windows
  [checkpoint - overlap, now)). Hours inside the span have every order posting, machine state and
  measurement that the MES had committed; gold marks them complete, and reconcile checks only those.
inputs:
  - bronze.mes_augsburg_production_orders
  - bronze.mes_augsburg_machine_states
  - bronze.mes_augsburg_quality_measurements
  - bronze.mes_ingolstadt_production_orders
  - bronze.mes_ingolstadt_machine_states
  - bronze.mes_ingolstadt_quality_measurements
  - bronze.mes_regensburg_production_orders
  - bronze.mes_regensburg_machine_states
  - bronze.mes_regensburg_quality_measurements
key: [facility_id]
quality:
  completeness: [covered_from, covered_to]
  consistency:
    - entities_landed = 3
expectations:
  - not_null: [facility_id, covered_from, covered_to]
  - condition: { name: span not inverted, sql: covered_to >= covered_from }
*/
WITH windows AS (
  SELECT 'augsburg' AS facility_id, 'production_orders' AS entity, _window_from, _window_to FROM bronze.mes_augsburg_production_orders
  UNION ALL SELECT 'augsburg', 'machine_states', _window_from, _window_to FROM bronze.mes_augsburg_machine_states
  UNION ALL SELECT 'augsburg', 'quality_measurements', _window_from, _window_to FROM bronze.mes_augsburg_quality_measurements
  UNION ALL SELECT 'ingolstadt', 'production_orders', _window_from, _window_to FROM bronze.mes_ingolstadt_production_orders
  UNION ALL SELECT 'ingolstadt', 'machine_states', _window_from, _window_to FROM bronze.mes_ingolstadt_machine_states
  UNION ALL SELECT 'ingolstadt', 'quality_measurements', _window_from, _window_to FROM bronze.mes_ingolstadt_quality_measurements
  UNION ALL SELECT 'regensburg', 'production_orders', _window_from, _window_to FROM bronze.mes_regensburg_production_orders
  UNION ALL SELECT 'regensburg', 'machine_states', _window_from, _window_to FROM bronze.mes_regensburg_machine_states
  UNION ALL SELECT 'regensburg', 'quality_measurements', _window_from, _window_to FROM bronze.mes_regensburg_quality_measurements
),
per_entity AS (
  SELECT facility_id, entity, min(_window_from) AS first_from, max(_window_to) AS last_to
  FROM windows
  WHERE _window_from IS NOT NULL AND _window_to IS NOT NULL
  GROUP BY facility_id, entity
)
SELECT
  facility_id,
  max(first_from) AS covered_from,
  min(last_to) AS covered_to,
  count(*) AS entities_landed
FROM per_entity
GROUP BY facility_id
HAVING count(*) = 3
