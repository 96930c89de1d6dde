/*
description: >
  Materials for reports: the ERP master data, the ideal cycle time the MES orders carry (the latest
  order's), the supplier that delivered it last (SAP POs) and its stock limits.
inputs: [silver.materials, silver.production_orders, silver.purchase_orders]
key: [material_id]
expectations:
  - not_null: [material_id, description]
synapse:
  distribution: REPLICATE
*/
WITH cycle AS (
  SELECT material_id, arg_max(ideal_cycle_time_s, modified_at) AS ideal_cycle_time_s
  FROM silver.production_orders GROUP BY material_id
),
supplier AS (
  SELECT material_id, arg_max(vendor, order_date) AS vendor
  FROM silver.purchase_orders WHERE NOT deleted GROUP BY material_id
)
SELECT
  m.material_id, m.description, m.uom, m.item_type, m.make_buy_code, m.list_price_eur,
  m.min_stock, m.max_stock, m.lead_time_days, c.ideal_cycle_time_s, s.vendor AS main_vendor, m.in_sap
FROM silver.materials AS m
LEFT JOIN cycle AS c USING (material_id)
LEFT JOIN supplier AS s USING (material_id)
