/*
description: >
  The Pareto of defect reasons per facility and plant-local day: not-OK inspections per defect code,
  most frequent first, with each code's share and the cumulative share.
inputs: [gold.fact_quality]
key: [facility_id, day, defect_code]
expectations:
  - range: { column: cumulative_share, min: 0, max: 1 }
  - condition: { name: ranks start at 1, sql: rank >= 1 }
synapse:
  distribution: ROUND_ROBIN
*/
WITH counts AS (
  SELECT facility_id, day, coalesce(defect_code, 'UNSPECIFIED') AS defect_code, count(*) AS defects
  FROM gold.fact_quality
  WHERE NOT ok
  GROUP BY ALL
)
SELECT
  facility_id, day, defect_code, defects,
  CAST(row_number() OVER w AS INTEGER) AS rank,
  defects / sum(defects) OVER (PARTITION BY facility_id, day) AS share,
  sum(defects) OVER (w ROWS UNBOUNDED PRECEDING) / sum(defects) OVER (PARTITION BY facility_id, day) AS cumulative_share
FROM counts
WINDOW w AS (PARTITION BY facility_id, day ORDER BY defects DESC, defect_code)
