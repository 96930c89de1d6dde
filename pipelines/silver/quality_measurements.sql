/*
description: >
  One row per inspection of one characteristic on one part, the three MES unified in millimetres:
  HYDRA's micrometres (limits as deviations from nominal) and Regensburg's decimal commas converted.
inputs:
  - bronze.mes_augsburg_quality_measurements
  - bronze.mes_ingolstadt_quality_measurements
  - bronze.mes_regensburg_quality_measurements
  - reference.mes_codes
key: [facility_id, measurement_id]
quarantine:
  - when: value IS NULL OR isnan(value) OR isinf(value)
    reason: no measured value (unreadable number)
  - when: lsl IS NULL OR usl IS NULL OR lsl > usl
    reason: specification limits missing or inverted
  - when: ok IS NULL
    reason: result code not in reference/mes_codes.csv
quality:
  completeness: [order_id, machine_id, material_id, characteristic, measured_at]
  consistency:
    - ok = (value BETWEEN lsl AND usl)
    - ok OR defect_code IS NOT NULL
  timeliness: { event: measured_at, landed: _extracted_at, within_minutes: 30 }
expectations:
  - not_null: [facility_id, measurement_id, machine_id, characteristic, value, measured_at]
  - accepted_values: { column: unit, values: [mm] }
  - condition: { name: verdict matches limits, sql: ok = (value BETWEEN lsl AND usl) }
  - { relationship: { column: order_id, to: silver.production_orders.order_id }, severity: warn }
synapse:
  distribution: HASH(machine_id)
*/
WITH simatic AS (
  SELECT
    'augsburg' AS facility_id, Id AS measurement_id,
    lower(regexp_replace(WorkOrderNId, '^WO-', '')) AS order_id,
    lower(EquipmentNId) AS machine_id, MaterialNId AS material_id, CharacteristicNId AS characteristic,
    CASE UoM WHEN 'mm' THEN 1.0 WHEN 'µm' THEN 0.001 END AS factor,
    NominalValue AS nominal_raw, LSL AS lsl_raw, USL AS usl_raw, Value AS value_raw,
    Result AS result_code, 'simatic-it' AS vendor, nullif(DefectCode, '') AS defect_code, MeasuredOn AS measured_at,
    _modified_at AS modified_at, _source, _extracted_at, _batch_id, _file
  FROM bronze.mes_augsburg_quality_measurements
),
hydra AS (
  SELECT
    'ingolstadt', ResultId, OrderNo || '/' || OperationNo, lower(Workplace), ArticleNo, Characteristic,
    CASE Unit WHEN 'µm' THEN 0.001 WHEN 'mm' THEN 1.0 END,
    TRY_CAST(NominalValue AS DOUBLE),
    TRY_CAST(NominalValue AS DOUBLE) + TRY_CAST(LowerTolerance AS DOUBLE),
    TRY_CAST(NominalValue AS DOUBLE) + TRY_CAST(UpperTolerance AS DOUBLE),
    TRY_CAST(MeasuredValue AS DOUBLE),
    Assessment, 'hydra', nullif(DefectCode, ''), TRY_CAST(MeasuredAt AS TIMESTAMPTZ),
    _modified_at, _source, _extracted_at, _batch_id, _file
  FROM bronze.mes_ingolstadt_quality_measurements
),
regensburg AS (
  SELECT
    'regensburg', messung_id, auftragsnummer, lower(maschine), artikel, merkmal,
    CASE einheit WHEN 'mm' THEN 1.0 WHEN 'µm' THEN 0.001 END,
    TRY_CAST(replace(sollwert, ',', '.') AS DOUBLE),
    TRY_CAST(replace(untere_grenze, ',', '.') AS DOUBLE),
    TRY_CAST(replace(obere_grenze, ',', '.') AS DOUBLE),
    TRY_CAST(replace(messwert, ',', '.') AS DOUBLE),
    bewertung, 'regensburg-mes', nullif(fehlercode, ''), CAST(epoch_ms(gemessen_am) AS TIMESTAMPTZ),
    _modified_at, _source, _extracted_at, _batch_id, _file
  FROM bronze.mes_regensburg_quality_measurements
),
latest AS (
  SELECT * FROM (SELECT * FROM simatic UNION ALL SELECT * FROM hydra UNION ALL SELECT * FROM regensburg)
  QUALIFY row_number() OVER (
    PARTITION BY facility_id, measurement_id ORDER BY modified_at DESC, _extracted_at DESC, _batch_id DESC, _file DESC
  ) = 1
)
SELECT
  l.facility_id, l.measurement_id, l.order_id, l.machine_id, l.material_id, l.characteristic,
  'mm' AS unit,
  -- Rounded to 7 decimals of a millimetre: undoes the binary noise of unit conversion.
  round(l.nominal_raw * l.factor, 7) AS nominal,
  round(l.lsl_raw * l.factor, 7) AS lsl,
  round(l.usl_raw * l.factor, 7) AS usl,
  round(l.value_raw * l.factor, 7) AS value,
  c.canonical = 'ok' AS ok,
  l.defect_code, l.measured_at, l.modified_at, l._source, l._extracted_at, l._batch_id
FROM latest AS l
LEFT JOIN reference.mes_codes AS c ON c.vendor = l.vendor AND c.kind = 'result' AND c.code = l.result_code
