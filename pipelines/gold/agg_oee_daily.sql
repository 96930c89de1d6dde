/*
description: >
  OEE per machine and plant-local day (Europe/Berlin, so 23 or 25 hours at the clock changes), rolled
  up from agg_oee_hourly by summing times and counts first and dividing after: never an average of
  ratios. `is_complete` when every hour of the day is complete.
inputs: [gold.agg_oee_hourly]
key: [facility_id, machine_id, day]
expectations:
  - not_null: [facility_id, machine_id, day, planned_time_s, run_time_s, total_count, good_count]
  - range: { column: availability, min: 0, max: 1 }
  - range: { column: performance, min: 0, max: 1 }
  - range: { column: quality, min: 0, max: 1 }
  - range: { column: oee, min: 0, max: 1 }
  - condition: { name: oee = availability x performance x quality, sql: "performance IS NULL OR quality IS NULL OR oee = availability * performance * quality" }
synapse:
  distribution: HASH(machine_id)
  # OEE per facility and plant day for Power BI, summed in the pool (ratios from the sums, never averaged).
  materialized_view: >
    SELECT facility_id, day, SUM(planned_time_s) AS planned_time_s, SUM(run_time_s) AS run_time_s,
    SUM(ideal_output_s) AS ideal_output_s, COUNT_BIG(ideal_output_s) AS ideal_output_rows,
    SUM(total_count) AS total_count, SUM(good_count) AS good_count, COUNT_BIG(machine_id) AS machines
    FROM gold.agg_oee_daily GROUP BY facility_id, day
*/
WITH days AS (
  SELECT
    facility_id, machine_id,
    CAST(hour_start AT TIME ZONE 'Europe/Berlin' AS DATE) AS day,
    CAST(sum(planned_time_s) AS DECIMAL(18, 3)) AS planned_time_s,
    CAST(sum(run_time_s) AS DECIMAL(18, 3)) AS run_time_s,
    CAST(sum(ideal_output_s) AS DECIMAL(18, 3)) AS ideal_output_s,
    CAST(sum(total_count) AS BIGINT) AS total_count,
    CAST(sum(good_count) AS BIGINT) AS good_count,
    count(*) AS hours,
    bool_and(is_complete) AS all_complete
  FROM gold.agg_oee_hourly
  GROUP BY ALL
),
ratios AS (
  SELECT
    *,
    CAST(run_time_s AS DOUBLE) / nullif(CAST(planned_time_s AS DOUBLE), 0) AS availability,
    -- Capped at 1: a part counts wholly in the hour it is finished (docs/oee.md).
    CASE WHEN run_time_s > 0 THEN least(1.0, CAST(ideal_output_s AS DOUBLE) / CAST(run_time_s AS DOUBLE)) END AS performance,
    CAST(good_count AS DOUBLE) / nullif(total_count, 0) AS quality
  FROM days
)
SELECT
  facility_id, machine_id, day,
  planned_time_s, run_time_s, ideal_output_s, total_count, good_count, total_count - good_count AS scrap_count,
  availability, performance, quality,
  CASE WHEN availability IS NOT NULL THEN
    availability * coalesce(performance, 0) * coalesce(quality, CASE WHEN coalesce(performance, 0) <> 0 THEN 0 ELSE 1 END)
  END AS oee,
  -- A plant day has as many UTC hours as it is long (23 or 25 at the clock changes).
  all_complete AND hours = CAST(epoch(CAST(day + 1 AS TIMESTAMP) AT TIME ZONE 'Europe/Berlin' - CAST(day AS TIMESTAMP) AT TIME ZONE 'Europe/Berlin') / 3600 AS BIGINT)
    AS is_complete
FROM ratios
