/*
description: >
  Supply chain KPIs per facility and day: goods received and issued, inventory turnover (issues / the
  day's stock), supplier lead time (PO date to goods receipt, in days, over the day's receipts) and the
  PO fulfilment rate (delivered / scheduled quantity of the schedule lines due that day) — all from
  summed quantities, never averaged ratios.
inputs: [silver.inventory_movements, silver.purchase_orders, gold.fact_inventory]
key: [facility_id, day]
expectations:
  - not_null: [facility_id, day]
  - range: { column: po_fulfilment_rate, min: 0, max: 1 }
  - range: { column: supplier_lead_time_days, min: 0 }
synapse:
  distribution: HASH(facility_id)
*/
WITH moves AS (
  SELECT facility_id, CAST(posted_at AS DATE) AS day,
    sum(quantity) FILTER (WHERE movement_type = '101') AS received_qty,
    -sum(quantity) FILTER (WHERE movement_type = '261') AS issued_qty
  FROM silver.inventory_movements
  WHERE source_system = 'sap' AND facility_id IS NOT NULL
  GROUP BY ALL
),
receipts AS (
  SELECT m.facility_id, CAST(m.posted_at AS DATE) AS day,
    sum(date_diff('day', p.order_date, CAST(m.posted_at AS DATE))) AS lead_days_sum, count(*) AS receipts
  FROM silver.inventory_movements AS m
  JOIN silver.purchase_orders AS p ON p.po_number = m.po_number AND p.po_item = m.po_item
  WHERE m.source_system = 'sap' AND m.movement_type = '101'
  GROUP BY ALL
),
due AS (
  SELECT facility_id, delivery_date AS day,
    sum(scheduled_qty) AS scheduled_qty, sum(least(delivered_qty, scheduled_qty)) AS delivered_qty
  FROM silver.purchase_orders
  -- Only lines due by the day of the data: a line due tomorrow is not late yet.
  WHERE NOT deleted AND facility_id IS NOT NULL
    AND delivery_date <= (SELECT CAST(max(_extracted_at) AS DATE) FROM silver.purchase_orders)
  GROUP BY ALL
),
stock AS (
  SELECT facility_id, snapshot_date AS day, sum(unrestricted_qty + inspection_qty + blocked_qty) AS stock_qty
  FROM gold.fact_inventory GROUP BY ALL
),
days AS (
  SELECT facility_id, day FROM moves UNION SELECT facility_id, day FROM due UNION SELECT facility_id, day FROM stock
)
SELECT
  d.facility_id, d.day,
  coalesce(m.received_qty, 0) AS received_qty,
  coalesce(m.issued_qty, 0) AS issued_qty,
  s.stock_qty,
  round(m.issued_qty / nullif(s.stock_qty, 0), 6) AS inventory_turnover,
  coalesce(r.receipts, 0) AS receipts,
  round(r.lead_days_sum / nullif(r.receipts, 0), 4) AS supplier_lead_time_days,
  coalesce(u.scheduled_qty, 0) AS scheduled_qty,
  coalesce(u.delivered_qty, 0) AS delivered_qty,
  round(u.delivered_qty / nullif(u.scheduled_qty, 0), 6) AS po_fulfilment_rate
FROM days AS d
LEFT JOIN moves AS m USING (facility_id, day)
LEFT JOIN receipts AS r USING (facility_id, day)
LEFT JOIN due AS u USING (facility_id, day)
LEFT JOIN stock AS s USING (facility_id, day)
