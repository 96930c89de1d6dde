/*
description: >
  Supply chain KPIs per facility and day: goods received and issued, inventory turnover (issues / the
  day's stock), supplier lead time (PO date to goods receipt, in days, over the day's receipts) and the
  PO fulfilment rate (quantity received by the due date / quantity scheduled, over the lines due that
  day: on time in full). `is_complete` marks the days SAP's extracts cover entirely. — all from
  summed quantities, never averaged ratios.
inputs: [silver.inventory_movements, silver.purchase_orders, gold.fact_inventory]
key: [facility_id, day]
expectations:
  - not_null: [facility_id, day]
  - { range: { column: po_fulfilment_rate, min: 0, max: 1 }, severity: warn }
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
  -- On time in full: of each line due that day, what was received with a posting date on or before it.
  SELECT p.facility_id, p.delivery_date AS day,
    sum(p.scheduled_qty) AS scheduled_qty,
    sum(coalesce(r.received_qty, 0)) AS delivered_qty
  FROM silver.purchase_orders AS p
  LEFT JOIN (
    SELECT po_number, po_item, sum(m.quantity) AS received_qty
    FROM silver.inventory_movements AS m
    JOIN silver.purchase_orders AS po USING (po_number, po_item)
    WHERE m.source_system = 'sap' AND m.movement_type = '101' AND CAST(m.posted_at AS DATE) <= po.delivery_date
    GROUP BY ALL
  ) AS r USING (po_number, po_item)
  -- Only lines due by the day of the data: a line due tomorrow is not late yet.
  WHERE NOT p.deleted AND p.facility_id IS NOT NULL
    AND p.delivery_date <= (SELECT CAST(max(_extracted_at) AS DATE) FROM silver.purchase_orders)
  GROUP BY ALL
),
stock AS (
  SELECT facility_id, snapshot_date AS day, sum(unrestricted_qty + inspection_qty + blocked_qty) AS stock_qty
  FROM gold.fact_inventory GROUP BY ALL
),
days AS (
  SELECT facility_id, day FROM moves UNION SELECT facility_id, day FROM due UNION SELECT facility_id, day FROM stock
),
-- SAP's goods movements are read by posting date from the first run's lookback on: a day is complete one
-- day after that start (a delivery can arrive a day early) and once the morning after it has passed
-- (receipts are sometimes keyed in the next morning with the day's posting date).
coverage AS (
  SELECT min(CAST(posted_at AS DATE)) AS first_day, max(CAST(_extracted_at AS DATE)) AS extraction_day
  FROM silver.inventory_movements WHERE source_system = 'sap'
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
  round(u.delivered_qty / nullif(u.scheduled_qty, 0), 6) AS po_fulfilment_rate,
  coalesce(d.day >= c.first_day + 1 AND d.day + 2 <= c.extraction_day, false) AS is_complete
FROM days AS d
CROSS JOIN coverage AS c
LEFT JOIN moves AS m USING (facility_id, day)
LEFT JOIN receipts AS r USING (facility_id, day)
LEFT JOIN due AS u USING (facility_id, day)
LEFT JOIN stock AS s USING (facility_id, day)
