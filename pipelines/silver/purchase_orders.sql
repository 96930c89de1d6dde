/*
description: >
  SAP purchase order items with their schedule line (BAPI_PO_GETDETAIL): ordered, scheduled and
  delivered quantities, delivery date, price and value in EUR (2 decimals, through reference/fx_rates),
  the latest extraction of each item. Checked against the material master (PO -> SAP/ERP material).
inputs: [bronze.sap_bapi_po_getdetail, reference.facilities, reference.fx_rates]
key: [po_number, po_item]
quarantine:
  - when: material_id IS NULL OR material_id = ''
    reason: PO item without a material
  - when: eur_per_unit IS NULL
    reason: currency not in reference/fx_rates.csv
  - when: quantity < 0
    reason: negative order quantity
quality:
  completeness: [vendor, material_id, facility_id, delivery_date, order_date]
  consistency:
    - delivered_qty <= quantity
    - delivery_date >= order_date
  timeliness: { event: changed_on, landed: _extracted_at, within_minutes: 120 }
expectations:
  - not_null: [po_number, po_item, vendor, material_id, order_date]
  - { relationship: { column: material_id, to: silver.materials.material_id } }
  - range: { column: quantity, min: 0 }
  - condition: { name: net value in EUR has 2 decimals, sql: "net_value_eur = round(net_value_eur, 2)" }
synapse:
  distribution: HASH(po_number)
*/
WITH latest AS (
  SELECT * FROM bronze.sap_bapi_po_getdetail
  QUALIFY row_number() OVER (
    PARTITION BY PO_NUMBER, PO_ITEM ORDER BY _extracted_at DESC, CHANGED_ON DESC, SERIAL_NO DESC, _batch_id DESC, _file DESC
  ) = 1
)
SELECT
  l.PO_NUMBER AS po_number,
  l.PO_ITEM AS po_item,
  l.VENDOR AS vendor,
  f.facility_id,
  l.MATERIAL AS material_id,
  l.QUANTITY AS quantity,
  l.SCHED_QUANTITY AS scheduled_qty,
  coalesce(l.DELIV_QTY, 0) AS delivered_qty,
  l.CURRENCY AS currency,
  x.eur_per_unit,
  CAST(round(l.NET_PRICE / nullif(l.PRICE_UNIT, 0) * x.eur_per_unit, 2) AS DECIMAL(18, 2)) AS net_price_eur,
  CAST(round(l.NET_VALUE * x.eur_per_unit, 2) AS DECIMAL(18, 2)) AS net_value_eur,
  CAST(l.DOC_DATE AS DATE) AS order_date,
  CAST(l.DELIV_DATE AS DATE) AS delivery_date,
  l.DEL_COMPL = 'X' AS delivery_completed,
  coalesce(l.DELETE_IND, '') <> '' AS deleted,
  l.CHANGED_ON AS changed_on,
  l._extracted_at
FROM latest AS l
LEFT JOIN reference.facilities AS f ON CAST(f.sap_plant AS VARCHAR) = l.PLANT
LEFT JOIN reference.fx_rates AS x ON x.currency = l.CURRENCY
