/*
description: >
  Five-minute windows per sensor, rolled up from the one-minute windows: counts and sums added,
  so mean and standard deviation are those of all the readings, not means of means.
inputs: [silver.machine_telemetry]
key: [sensor_id, window_start]
quality:
  completeness: [facility_id, machine_id, metric, value_stddev]
  consistency:
    - value_min <= value_avg AND value_avg <= value_max
    - spike_minutes = 0
    - flatline_minutes = 0
expectations:
  - not_null: [sensor_id, window_start, sample_count]
synapse:
  distribution: HASH(sensor_id)
*/
SELECT
  sensor_id,
  time_bucket(INTERVAL 5 MINUTE, window_start) AS window_start,
  time_bucket(INTERVAL 5 MINUTE, window_start) + INTERVAL 5 MINUTE AS window_end,
  any_value(facility_id) AS facility_id, any_value(machine_id) AS machine_id,
  any_value(metric) AS metric, any_value(unit) AS unit,
  sum(sample_count) AS sample_count,
  min(value_min) AS value_min, max(value_max) AS value_max,
  round(CAST(sum(value_sum) AS DOUBLE) / sum(sample_count), 6) AS value_avg,
  CASE WHEN sum(sample_count) > 1 THEN
    round(sqrt(greatest(0, CAST(sum(value_sum_sq) - sum(value_sum) * sum(value_sum) / sum(sample_count) AS DOUBLE) / (sum(sample_count) - 1))), 6)
  END AS value_stddev,
  CAST(sum(value_sum) AS DECIMAL(38, 6)) AS value_sum, CAST(sum(value_sum_sq) AS DECIMAL(38, 6)) AS value_sum_sq,
  count(*) FILTER (WHERE is_spike) AS spike_minutes,
  count(*) FILTER (WHERE is_flatline) AS flatline_minutes
FROM silver.machine_telemetry
GROUP BY sensor_id, time_bucket(INTERVAL 5 MINUTE, window_start)
