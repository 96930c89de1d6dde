/*
description: >
  One row per production order (one operation on one machine), the three MES unified: the latest
  version of each order, its booked quantities, its ideal cycle time in seconds and its material
  (the ERP item number). Ingolstadt's order is the HYDRA order number and operation (`25180711/0010`).
inputs:
  - bronze.mes_augsburg_production_orders
  - bronze.mes_ingolstadt_production_orders
  - bronze.mes_regensburg_production_orders
  - reference.mes_codes
key: [facility_id, order_id]
quarantine:
  - when: machine_id IS NULL
    reason: no machine
  - when: status IS NULL
    reason: order status not in reference/mes_codes.csv
  - when: ideal_cycle_time_s IS NULL OR ideal_cycle_time_s <= 0
    reason: no ideal cycle time (OEE performance cannot be computed)
  - when: good_count < 0 OR scrap_count < 0
    reason: negative quantity
quality:
  completeness: [material_id, machine_id, planned_start_at, planned_qty, ideal_cycle_time_s]
  consistency:
    - total_count = good_count + scrap_count
    - actual_end_at IS NULL OR actual_end_at >= actual_start_at
    - (status = 'completed') = (actual_end_at IS NOT NULL)
  timeliness: { event: modified_at, landed: _extracted_at, within_minutes: 30 }
expectations:
  - not_null: [facility_id, order_id, machine_id, material_id, status]
  - accepted_values: { column: status, values: [released, in_progress, completed] }
  - range: { column: planned_qty, min: 0 }
  - condition: { name: good + scrap = total, sql: total_count = good_count + scrap_count }
  - condition: { name: started when counted, sql: total_count = 0 OR actual_start_at IS NOT NULL }
  # Across systems: the item a MES order makes must exist in the ERP's material master.
  - { relationship: { column: material_id, to: silver.materials.material_id }, severity: warn }
synapse:
  distribution: HASH(order_id)
*/
WITH simatic AS (
  SELECT
    'augsburg' AS facility_id,
    lower(regexp_replace(NId, '^WO-', '')) AS order_id,
    lower(Equipment) AS machine_id,
    json_extract_string(FinalMaterial, '$.NId') AS material_id,
    c.canonical AS status,
    Quantity AS planned_qty,
    GoodQuantity AS good_count,
    ScrapQuantity AS scrap_count,
    IdealCycleTime AS ideal_cycle_time_s,
    PlannedStartTime AS planned_start_at, PlannedEndTime AS planned_end_at,
    ActualStartTime AS actual_start_at, ActualEndTime AS actual_end_at,
    _modified_at AS modified_at, _source, _extracted_at, _batch_id, _file
  FROM bronze.mes_augsburg_production_orders AS o
  LEFT JOIN reference.mes_codes AS c
    ON c.vendor = 'simatic-it' AND c.kind = 'order_status' AND c.code = json_extract_string(o.Status, '$.StatusNId')
),
hydra AS (
  SELECT
    'ingolstadt' AS facility_id,
    OrderNo || '/' || OperationNo AS order_id,
    lower(Workplace) AS machine_id,
    ArticleNo AS material_id,
    c.canonical AS status,
    TRY_CAST(QtyPlanned AS BIGINT) AS planned_qty,
    TRY_CAST(QtyGood AS BIGINT) AS good_count,
    TRY_CAST(QtyScrap AS BIGINT) AS scrap_count,
    TRY_CAST(TargetCycleTime AS DOUBLE) / CASE "TargetCycleTime@unit" WHEN 'ms' THEN 1000 WHEN 'min' THEN 1.0 / 60 ELSE 1 END
      AS ideal_cycle_time_s,
    TRY_CAST(nullif(PlannedStart, '') AS TIMESTAMPTZ) AS planned_start_at,
    TRY_CAST(nullif(PlannedEnd, '') AS TIMESTAMPTZ) AS planned_end_at,
    TRY_CAST(nullif(ActualStart, '') AS TIMESTAMPTZ) AS actual_start_at,
    TRY_CAST(nullif(ActualEnd, '') AS TIMESTAMPTZ) AS actual_end_at,
    _modified_at AS modified_at, _source, _extracted_at, _batch_id, _file
  FROM bronze.mes_ingolstadt_production_orders AS o
  LEFT JOIN reference.mes_codes AS c ON c.vendor = 'hydra' AND c.kind = 'order_status' AND c.code = o.Status
),
regensburg AS (
  SELECT
    'regensburg' AS facility_id,
    auftragsnummer AS order_id,
    lower(maschine) AS machine_id,
    artikel AS material_id,
    c.canonical AS status,
    menge_soll AS planned_qty,
    menge_gut AS good_count,
    menge_ausschuss AS scrap_count,
    taktzeit_soll_ms / 1000 AS ideal_cycle_time_s,
    CAST(epoch_ms(start_geplant) AS TIMESTAMPTZ) AS planned_start_at,
    CAST(epoch_ms(ende_geplant) AS TIMESTAMPTZ) AS planned_end_at,
    CAST(epoch_ms(start_ist) AS TIMESTAMPTZ) AS actual_start_at,
    CAST(epoch_ms(ende_ist) AS TIMESTAMPTZ) AS actual_end_at,
    _modified_at AS modified_at, _source, _extracted_at, _batch_id, _file
  FROM bronze.mes_regensburg_production_orders AS o
  LEFT JOIN reference.mes_codes AS c ON c.vendor = 'regensburg-mes' AND c.kind = 'order_status' AND c.code = o.status
)
SELECT
  facility_id, order_id, machine_id, material_id, status, planned_qty,
  good_count + scrap_count AS total_count, good_count, scrap_count,
  CAST(ideal_cycle_time_s AS DOUBLE) AS ideal_cycle_time_s,
  planned_start_at, planned_end_at, actual_start_at, actual_end_at, modified_at,
  _source, _extracted_at, _batch_id
FROM (SELECT * FROM simatic UNION ALL BY NAME SELECT * FROM hydra UNION ALL BY NAME SELECT * FROM regensburg)
QUALIFY row_number() OVER (
  PARTITION BY facility_id, order_id ORDER BY modified_at DESC, _extracted_at DESC, _batch_id DESC, _file DESC
) = 1
