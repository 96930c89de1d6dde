/*
description: >
  One row per UTC hour that any fact touches, with the plant-local (Europe/Berlin) date, hour and
  shift. A night shift belongs to the day it starts, so its `shift_date` can be the day before the
  local date (docs/oee.md).
inputs: [silver.machine_states, silver.production_orders]
key: [hour_start]
expectations:
  - not_null: [hour_start, local_date, shift]
  - accepted_values: { column: shift, values: [early, late, night] }
synapse:
  distribution: REPLICATE
*/
WITH span AS (
  SELECT min(start_at) AS first_at, max(observed_until) AS last_at FROM silver.machine_states
  UNION ALL
  SELECT min(actual_start_at), max(coalesce(actual_end_at, modified_at)) FROM silver.production_orders
),
hours AS (
  SELECT unnest(range(date_trunc('hour', min(first_at)), max(last_at), INTERVAL 1 HOUR)) AS hour_start
  FROM span
  HAVING min(first_at) IS NOT NULL
),
local AS (
  SELECT hour_start, hour_start AT TIME ZONE 'Europe/Berlin' AS local_start FROM hours
)
SELECT
  hour_start,
  CAST(local_start AS DATE) AS local_date,
  CAST(hour(local_start) AS INTEGER) AS local_hour,
  CASE WHEN hour(local_start) BETWEEN 6 AND 13 THEN 'early' WHEN hour(local_start) BETWEEN 14 AND 21 THEN 'late' ELSE 'night' END AS shift,
  CASE WHEN hour(local_start) < 6 THEN CAST(local_start AS DATE) - 1 ELSE CAST(local_start AS DATE) END AS shift_date,
  CAST(isodow(local_start) AS INTEGER) AS local_weekday,
  CAST(year(local_start) AS INTEGER) AS local_year,
  CAST(month(local_start) AS INTEGER) AS local_month
FROM local
