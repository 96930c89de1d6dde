/*
description: >
  One-minute windows per sensor: count, min, max, mean, standard deviation, plus the sums that let
  coarser windows be rolled up exactly. Event Hubs delivers at least once, so a reading delivered twice
  (same sensor and sequence number) counts once; a late reading lands in the window of its event time
  whenever it arrives, because every run rebuilds the windows from bronze. `is_spike` marks a window
  whose mean is more than 4 standard deviations from the sensor's previous 30 windows; `is_flatline`
  a window of 3 or more readings that are all the same value.
inputs:
  - bronze.iot_telemetry
key: [sensor_id, window_start]
quarantine:
  - when: isnan(value_avg) OR isinf(value_avg)
    reason: non-finite reading in the window
quality:
  completeness: [facility_id, machine_id, metric, unit]
  consistency:
    - value_min <= value_avg AND value_avg <= value_max
  timeliness: { event: window_end, landed: landed_at, within_minutes: 5 }
expectations:
  - not_null: [sensor_id, window_start, facility_id, machine_id, metric]
  - range: { column: sample_count, min: 1 }
  - accepted_values: { column: facility_id, values: [augsburg, ingolstadt, regensburg] }
  - { freshness: { column: window_end, max_age_minutes: 60 }, severity: warn }
synapse:
  distribution: HASH(sensor_id)
*/
WITH readings AS (
  -- Event Hubs delivers at least once: the copies of a reading share sensor and sequence number and
  -- carry the same values, so grouping on those two keeps one (min() picks the same one every run).
  SELECT
    sensor_id, sensor_seq,
    min(event_at) AS event_at, min(value) AS value,
    min(facility_id) AS facility_id, min(machine_id) AS machine_id, min(metric) AS metric, min(unit) AS unit,
    min(_extracted_at) AS landed_at
  FROM bronze.iot_telemetry
  WHERE sensor_id IS NOT NULL AND event_at IS NOT NULL
  GROUP BY sensor_id, sensor_seq
),
windows AS (
  SELECT
    sensor_id,
    time_bucket(INTERVAL 1 MINUTE, event_at) AS window_start,
    min(facility_id) AS facility_id,
    min(machine_id) AS machine_id,
    min(metric) AS metric,
    min(unit) AS unit,
    count(*) AS sample_count,
    min(value) AS value_min,
    max(value) AS value_max,
    -- Sums in DECIMAL are exact and order-free, so the same bronze gives the same bits on any thread count.
    sum(CAST(value AS DECIMAL(38, 6))) AS value_sum,
    sum(CAST(value AS DECIMAL(38, 6)) * CAST(value AS DECIMAL(38, 6))) AS value_sum_sq,
    min(event_at) AS first_event_at,
    max(event_at) AS last_event_at,
    max(landed_at) AS landed_at
  FROM readings
  GROUP BY sensor_id, window_start
),
stats AS (
  SELECT
    *,
    window_start + INTERVAL 1 MINUTE AS window_end,
    round(CAST(value_sum AS DOUBLE) / sample_count, 6) AS value_avg,
    CASE WHEN sample_count > 1 THEN
      round(sqrt(greatest(0, CAST((value_sum_sq - value_sum * value_sum / sample_count) AS DOUBLE) / (sample_count - 1))), 6)
    END AS value_stddev
  FROM windows
),
flagged AS (
  SELECT
    *,
    avg(value_avg) OVER recent AS recent_mean,
    stddev_samp(value_avg) OVER recent AS recent_stddev,
    count(*) OVER recent AS recent_windows
  FROM stats
  WINDOW recent AS (PARTITION BY sensor_id ORDER BY window_start ROWS BETWEEN 30 PRECEDING AND 1 PRECEDING)
)
SELECT
  sensor_id, window_start, window_end, facility_id, machine_id, metric, unit,
  sample_count, value_min, value_max, value_avg, value_stddev,
  CAST(value_sum AS DECIMAL(38, 6)) AS value_sum, CAST(value_sum_sq AS DECIMAL(38, 6)) AS value_sum_sq,
  coalesce(recent_windows >= 10 AND recent_stddev > 0 AND abs(value_avg - recent_mean) > 4 * recent_stddev, false) AS is_spike,
  sample_count >= 3 AND value_min = value_max AS is_flatline,
  first_event_at, last_event_at, landed_at
FROM flagged
