/*
description: >
  Per machine, material and plant-local day: parts made, scrapped and the scrap rate (from the quantity
  postings), inspections, not-OK inspections and the defect rate — rates from summed counts.
inputs: [silver.production_postings, gold.fact_quality]
key: [facility_id, machine_id, material_id, day]
expectations:
  - range: { column: scrap_rate, min: 0, max: 1 }
  - range: { column: defect_rate, min: 0, max: 1 }
  - condition: { name: scrap within parts, sql: scrap_count <= total_count }
synapse:
  distribution: HASH(machine_id)
*/
WITH parts AS (
  SELECT facility_id, machine_id, material_id,
    CAST(hour_start AT TIME ZONE 'Europe/Berlin' AS DATE) AS day,
    sum(total_count) AS total_count, sum(scrap_count) AS scrap_count
  FROM silver.production_postings
  GROUP BY ALL
),
inspections AS (
  SELECT facility_id, machine_id, material_id, day,
    count(*) AS measured, count(*) FILTER (WHERE NOT ok) AS not_ok
  FROM gold.fact_quality
  GROUP BY ALL
)
SELECT
  facility_id, machine_id, material_id, day,
  CAST(coalesce(p.total_count, 0) AS BIGINT) AS total_count,
  CAST(coalesce(p.scrap_count, 0) AS BIGINT) AS scrap_count,
  CAST(p.scrap_count AS DOUBLE) / nullif(p.total_count, 0) AS scrap_rate,
  coalesce(i.measured, 0) AS measured,
  coalesce(i.not_ok, 0) AS not_ok,
  CAST(i.not_ok AS DOUBLE) / nullif(i.measured, 0) AS defect_rate
FROM parts AS p
FULL OUTER JOIN inspections AS i USING (facility_id, machine_id, material_id, day)
