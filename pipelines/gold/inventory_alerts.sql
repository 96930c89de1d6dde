/*
description: >
  Materials whose unrestricted stock in a plant is below the minimum stock, in the latest snapshot:
  what the API's inventory/alerts serves. `shortfall` is what is missing to the minimum, `days_of_cover`
  the days the stock lasts at the last 7 days' issue rate.
inputs: [gold.fact_inventory, silver.inventory_movements]
key: [facility_id, material_id]
expectations:
  - range: { column: shortfall, min: 0 }
synapse:
  distribution: REPLICATE
*/
WITH latest AS (
  SELECT * FROM gold.fact_inventory
  QUALIFY row_number() OVER (PARTITION BY facility_id, material_id ORDER BY snapshot_date DESC) = 1
),
usage AS (
  SELECT facility_id, material_id, -sum(quantity) / 7.0 AS issued_per_day
  FROM silver.inventory_movements
  WHERE source_system = 'sap' AND quantity < 0
    AND posted_at >= (SELECT max(posted_at) FROM silver.inventory_movements) - INTERVAL 7 DAY
  GROUP BY ALL
)
SELECT
  l.facility_id, l.material_id, l.snapshot_date, l.unrestricted_qty, l.min_stock,
  l.min_stock - l.unrestricted_qty AS shortfall,
  round(l.unrestricted_qty / nullif(u.issued_per_day, 0), 2) AS days_of_cover,
  CASE WHEN l.unrestricted_qty <= 0 THEN 'critical' WHEN l.unrestricted_qty < l.min_stock / 2 THEN 'high' ELSE 'medium' END AS severity
FROM latest AS l
LEFT JOIN usage AS u USING (facility_id, material_id)
WHERE l.below_min_stock
