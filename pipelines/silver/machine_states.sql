/*
description: >
  One row per interval of one machine in one state, the three MES unified into the canonical
  states of docs/oee.md. Each vendor's latest version of an interval wins (an interval lands open,
  then again closed). `observed_until` is the end, or for an interval still open when it was read,
  the end of the window that read it: the interval lasted at least that long.
inputs:
  - bronze.mes_augsburg_machine_states
  - bronze.mes_ingolstadt_machine_states
  - bronze.mes_regensburg_machine_states
  - reference.mes_codes
  - reference.machine_states
key: [facility_id, state_id]
quarantine:
  - when: state IS NULL
    reason: state code not in reference/mes_codes.csv
  - when: machine_id IS NULL OR start_at IS NULL
    reason: no machine or no start time
  - when: end_at < start_at
    reason: interval ends before it starts
quality:
  completeness: [machine_id, state, start_at, modified_at]
  consistency:
    - end_at IS NULL OR end_at >= start_at
    - (state IN ('running', 'reduced_speed')) = (speed_factor IS NOT NULL)
  timeliness: { event: modified_at, landed: _extracted_at, within_minutes: 30 }
expectations:
  - not_null: [facility_id, machine_id, state_id, state, loss_class, start_at, observed_until]
  - accepted_values:
      column: loss_class
      values: [productive, performance_loss, availability_loss, planned_stop]
  - range: { column: speed_factor, min: 0, max: 1 }
  - condition: { name: observed_until >= start_at, sql: observed_until >= start_at }
synapse:
  distribution: HASH(machine_id)
*/
WITH simatic AS (
  SELECT
    'augsburg' AS facility_id,
    lower(EquipmentNId) AS machine_id,
    Id AS state_id,
    CASE
      WHEN State = 'RUNNING' AND ReasonCode IS NULL THEN 'running'
      WHEN State = 'RUNNING' AND split_part(ReasonCode, '/', 1) = 'SPEED_LOSS' THEN 'reduced_speed'
      WHEN State = 'IDLE' AND split_part(ReasonCode, '/', 1) IN ('MICRO_STOP', 'BREAK', 'NO_SHIFT', 'NO_ORDER')
        THEN lower(split_part(ReasonCode, '/', 1))
      WHEN State = 'DOWN' AND split_part(ReasonCode, '/', 1) = 'MAINTENANCE' THEN 'maintenance'
      WHEN State = 'DOWN' THEN 'failure'
      WHEN State = 'SETUP' THEN 'setup'
    END AS state,
    CASE
      WHEN contains(ReasonCode, '/') THEN split_part(ReasonCode, '/', 2)
      WHEN State IN ('DOWN', 'SETUP') THEN ReasonCode
    END AS reason_code,
    lower(regexp_replace(WorkOrderNId, '^WO-', '')) AS order_id,
    StartTime AS start_at,
    EndTime AS end_at,
    CASE WHEN State = 'RUNNING' THEN coalesce(SpeedFactor, 1.0) END AS speed_factor,
    _modified_at AS modified_at, _source, _extracted_at, _batch_id, _window_to, _file
  FROM bronze.mes_augsburg_machine_states
),
hydra AS (
  SELECT
    'ingolstadt' AS facility_id,
    lower(Workplace) AS machine_id,
    StateId AS state_id,
    c.canonical AS state,
    nullif(ReasonCode, '') AS reason_code,
    nullif(OrderNo, '') || '/' || OperationNo AS order_id,
    TRY_CAST(nullif(Start, '') AS TIMESTAMPTZ) AS start_at,
    TRY_CAST(nullif("End", '') AS TIMESTAMPTZ) AS end_at,
    CASE WHEN c.canonical IN ('running', 'reduced_speed') THEN TRY_CAST(nullif(SpeedPct, '') AS DOUBLE) / 100 END AS speed_factor,
    _modified_at AS modified_at, _source, _extracted_at, _batch_id, _window_to, _file
  FROM bronze.mes_ingolstadt_machine_states AS s
  LEFT JOIN reference.mes_codes AS c ON c.vendor = 'hydra' AND c.kind = 'machine_state' AND c.code = s.StatusCode
),
regensburg AS (
  SELECT
    'regensburg' AS facility_id,
    lower(maschine) AS machine_id,
    _record_key AS state_id,
    c.canonical AS state,
    grund AS reason_code,
    auftragsnummer AS order_id,
    CAST(epoch_ms(von) AS TIMESTAMPTZ) AS start_at,
    CAST(epoch_ms(bis) AS TIMESTAMPTZ) AS end_at,
    CASE WHEN c.canonical IN ('running', 'reduced_speed') THEN leistung_prozent / 100 END AS speed_factor,
    _modified_at AS modified_at, _source, _extracted_at, _batch_id, _window_to, _file
  FROM bronze.mes_regensburg_machine_states AS s
  LEFT JOIN reference.mes_codes AS c ON c.vendor = 'regensburg-mes' AND c.kind = 'machine_state' AND c.code = s.zustand
),
latest AS (
  SELECT * FROM (SELECT * FROM simatic UNION ALL BY NAME SELECT * FROM hydra UNION ALL BY NAME SELECT * FROM regensburg)
  QUALIFY row_number() OVER (
    PARTITION BY facility_id, state_id
    ORDER BY modified_at DESC, (end_at IS NULL), _extracted_at DESC, _batch_id DESC, _file DESC
  ) = 1
)
SELECT
  l.facility_id, l.machine_id, l.state_id, l.state, m.loss_class, l.reason_code,
  CASE WHEN l.order_id IN ('', '/') THEN NULL ELSE l.order_id END AS order_id,
  l.start_at, l.end_at,
  -- An open interval lasted until the read, or until the next interval of the machine began (its own
  -- closing version may not have been committed yet when the next one was).
  coalesce(
    l.end_at,
    greatest(l.start_at, least(l._window_to, lead(l.start_at) OVER (PARTITION BY l.facility_id, l.machine_id ORDER BY l.start_at, l.state_id)))
  ) AS observed_until,
  l.speed_factor, l.modified_at,
  l._source, l._extracted_at, l._batch_id
FROM latest AS l
LEFT JOIN reference.machine_states AS m ON m.state = l.state
