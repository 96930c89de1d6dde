/*
description: >
  OEE per machine and UTC hour (docs/oee.md). Times come from the machine state intervals cut at the
  hour boundaries, counts from the quantity postings of the hour; availability = run time / planned
  production time, performance = ideal output time / run time, quality = good / total parts,
  oee = availability x performance x quality. A ratio whose denominator is 0 is null. `is_complete` says
  the hour lies inside the span the facility's MES bronze fully covers (silver.mes_coverage): later
  postings and state changes cannot alter it any more, so reconcile compares exactly these hours.
inputs: [silver.machine_states, silver.production_postings, silver.mes_coverage, reference.machine_states]
key: [facility_id, machine_id, hour_start]
expectations:
  - not_null: [facility_id, machine_id, hour_start, planned_time_s, run_time_s, total_count, good_count]
  - range: { column: availability, min: 0, max: 1 }
  - range: { column: performance, min: 0, max: 1 }
  - range: { column: quality, min: 0, max: 1 }
  - range: { column: oee, min: 0, max: 1 }
  - range: { column: planned_time_s, min: 0, max: 3600 }
  - condition: { name: run time within planned time, sql: run_time_s <= planned_time_s }
  - condition: { name: oee = availability x performance x quality, sql: "performance IS NULL OR quality IS NULL OR oee = availability * performance * quality" }
synapse:
  distribution: HASH(machine_id)
*/
WITH cut AS (
  SELECT
    s.facility_id, s.machine_id, h.hour_start, m.is_planned_time, m.is_run_time,
    CAST(
      epoch_ms(least(s.observed_until, h.hour_start + INTERVAL 1 HOUR)) - epoch_ms(greatest(s.start_at, h.hour_start))
      AS DECIMAL(18, 3)
    ) / 1000 AS seconds
  FROM silver.machine_states AS s
  JOIN reference.machine_states AS m ON m.state = s.state
  CROSS JOIN LATERAL (
    SELECT unnest(range(date_trunc('hour', s.start_at), s.observed_until, INTERVAL 1 HOUR)) AS hour_start
  ) AS h
  WHERE s.observed_until > s.start_at
),
times AS (
  SELECT
    facility_id, machine_id, hour_start,
    coalesce(sum(seconds) FILTER (WHERE is_planned_time), 0) AS planned_time_s,
    coalesce(sum(seconds) FILTER (WHERE is_run_time), 0) AS run_time_s
  FROM cut
  GROUP BY ALL
),
counts AS (
  SELECT
    facility_id, machine_id, hour_start,
    sum(total_count) AS total_count,
    sum(good_count) AS good_count,
    sum(CAST(total_count * ideal_cycle_time_s AS DECIMAL(18, 3))) AS ideal_output_s
  FROM silver.production_postings
  GROUP BY ALL
),
joined AS (
  SELECT
    facility_id, machine_id, hour_start,
    CAST(coalesce(t.planned_time_s, 0) AS DECIMAL(18, 3)) AS planned_time_s,
    CAST(coalesce(t.run_time_s, 0) AS DECIMAL(18, 3)) AS run_time_s,
    CAST(coalesce(c.ideal_output_s, 0) AS DECIMAL(18, 3)) AS ideal_output_s,
    CAST(coalesce(c.total_count, 0) AS BIGINT) AS total_count,
    CAST(coalesce(c.good_count, 0) AS BIGINT) AS good_count
  FROM times AS t
  FULL OUTER JOIN counts AS c USING (facility_id, machine_id, hour_start)
),
ratios AS (
  SELECT
    *,
    CAST(run_time_s AS DOUBLE) / nullif(CAST(planned_time_s AS DOUBLE), 0) AS availability,
    -- Capped at 1: a part counts wholly in the hour it is finished (docs/oee.md).
    CASE WHEN run_time_s > 0 THEN least(1.0, CAST(ideal_output_s AS DOUBLE) / CAST(run_time_s AS DOUBLE)) END AS performance,
    CAST(good_count AS DOUBLE) / nullif(total_count, 0) AS quality
  FROM joined
)
SELECT
  r.facility_id, r.machine_id, r.hour_start,
  r.planned_time_s, r.run_time_s, r.ideal_output_s, r.total_count, r.good_count,
  r.total_count - r.good_count AS scrap_count,
  r.availability, r.performance, r.quality,
  -- No run time or no parts in planned time is an OEE of 0, not unknown (docs/oee.md).
  CASE WHEN r.availability IS NOT NULL THEN
    r.availability * coalesce(r.performance, 0) * coalesce(r.quality, CASE WHEN coalesce(r.performance, 0) <> 0 THEN 0 ELSE 1 END)
  END AS oee,
  coalesce(r.hour_start >= c.covered_from AND r.hour_start + INTERVAL 1 HOUR + INTERVAL 5 MINUTE <= c.covered_to, false)
    AS is_complete
FROM ratios AS r
LEFT JOIN silver.mes_coverage AS c USING (facility_id)
-- Hours before the facility's coverage began are partial by construction (a state that ended before the
-- first window was never read), so they are left out rather than shown wrong.
WHERE c.covered_from IS NULL OR r.hour_start >= c.covered_from
