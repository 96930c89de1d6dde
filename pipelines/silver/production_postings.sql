/*
description: >
  One row per quantity posting of a production order: the parts an order completed in
  (previous posting, posted_at]. Each MES posts every UTC quarter hour while an order runs and at its
  end; the latest version of an order carries all its postings, so they are read from that version.
  `hour_start` is the UTC hour the parts were made in: a posting exactly on the hour counts for the hour
  that ends there (docs/oee.md, "Counts").
inputs:
  - bronze.mes_augsburg_production_orders
  - bronze.mes_ingolstadt_production_orders
  - bronze.mes_regensburg_production_orders
  - silver.production_orders
key: [facility_id, order_id, posted_at]
quarantine:
  - when: posted_at IS NULL
    reason: posting without a readable time
  - when: good_count IS NULL OR scrap_count IS NULL OR good_count < 0 OR scrap_count < 0
    reason: posting quantity missing or negative
  - when: machine_id IS NULL
    reason: its order is not in silver.production_orders (quarantined there, or never landed)
quality:
  completeness: [machine_id, material_id, ideal_cycle_time_s]
  consistency:
    - total_count = good_count + scrap_count
    - total_count >= 0
expectations:
  - not_null: [facility_id, order_id, machine_id, posted_at, hour_start]
  - { relationship: { column: order_id, to: silver.production_orders.order_id } }
synapse:
  distribution: HASH(machine_id)
*/
WITH simatic AS (
  SELECT 'augsburg' AS facility_id, lower(regexp_replace(NId, '^WO-', '')) AS order_id, QuantityPostings AS postings,
    _modified_at, _extracted_at, _batch_id, _file
  FROM bronze.mes_augsburg_production_orders
),
hydra AS (
  SELECT 'ingolstadt', OrderNo || '/' || OperationNo, Postings, _modified_at, _extracted_at, _batch_id, _file
  FROM bronze.mes_ingolstadt_production_orders
),
regensburg AS (
  SELECT 'regensburg', auftragsnummer, buchungen, _modified_at, _extracted_at, _batch_id, _file
  FROM bronze.mes_regensburg_production_orders
),
latest AS (
  SELECT * FROM (SELECT * FROM simatic UNION ALL SELECT * FROM hydra UNION ALL SELECT * FROM regensburg)
  QUALIFY row_number() OVER (
    PARTITION BY facility_id, order_id ORDER BY _modified_at DESC, _extracted_at DESC, _batch_id DESC, _file DESC
  ) = 1
),
items AS (
  SELECT facility_id, order_id, unnest(CAST(postings AS JSON[])) AS p
  FROM latest
  WHERE postings IS NOT NULL AND json_valid(postings) AND json_type(postings) = 'ARRAY'
),
postings AS (
  SELECT
    facility_id, order_id,
    CASE facility_id
      WHEN 'augsburg' THEN TRY_CAST(p->>'PostedOn' AS TIMESTAMPTZ)
      WHEN 'ingolstadt' THEN TRY_CAST(p->>'PostedAt' AS TIMESTAMPTZ)
      ELSE CAST(epoch_ms(TRY_CAST(p->>'zeitpunkt' AS BIGINT)) AS TIMESTAMPTZ)
    END AS posted_at,
    TRY_CAST(coalesce(p->>'GoodQuantity', p->>'QtyGood', p->>'menge_gut') AS BIGINT) AS good_count,
    TRY_CAST(coalesce(p->>'ScrapQuantity', p->>'QtyScrap', p->>'menge_ausschuss') AS BIGINT) AS scrap_count
  FROM items
)
SELECT
  p.facility_id, p.order_id, o.machine_id, o.material_id, p.posted_at,
  date_trunc('hour', p.posted_at - INTERVAL 1 MICROSECOND) AS hour_start,
  p.good_count + p.scrap_count AS total_count, p.good_count, p.scrap_count,
  o.ideal_cycle_time_s
FROM postings AS p
LEFT JOIN silver.production_orders AS o USING (facility_id, order_id)
