/*
description: >
  SAP purchase order items (BAPI_PO_GETDETAIL, one bronze row per schedule line): ordered quantity, the
  schedule lines' quantity summed and the first line's delivery date, delivered quantity, price and
  value in EUR (2 decimals, through reference/fx_rates), each line at its latest extraction. Checked against the material master (PO -> SAP/ERP material).
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
WITH lines AS (
  -- One bronze row per schedule line, the latest extraction of each.
  SELECT * FROM bronze.sap_bapi_po_getdetail
  QUALIFY row_number() OVER (
    PARTITION BY PO_NUMBER, PO_ITEM, SERIAL_NO ORDER BY _extracted_at DESC, CHANGED_ON DESC, _batch_id DESC, _file DESC
  ) = 1
),
latest AS (
  -- One row per item: its schedule lines summed, due at the first line's date.
  SELECT
    PO_NUMBER, PO_ITEM,
    arg_max(VENDOR, _extracted_at) AS VENDOR, arg_max(PLANT, _extracted_at) AS PLANT,
    arg_max(MATERIAL, _extracted_at) AS MATERIAL, arg_max(QUANTITY, _extracted_at) AS QUANTITY,
    sum(SCHED_QUANTITY) AS SCHED_QUANTITY, max(DELIV_QTY) AS DELIV_QTY,
    arg_max(CURRENCY, _extracted_at) AS CURRENCY, arg_max(NET_PRICE, _extracted_at) AS NET_PRICE,
    arg_max(PRICE_UNIT, _extracted_at) AS PRICE_UNIT, arg_max(NET_VALUE, _extracted_at) AS NET_VALUE,
    arg_max(DOC_DATE, _extracted_at) AS DOC_DATE, min(DELIV_DATE) AS DELIV_DATE,
    bool_and(DEL_COMPL = 'X') AS DEL_COMPL, max(coalesce(DELETE_IND, '')) AS DELETE_IND,
    max(CHANGED_ON) AS CHANGED_ON, max(_extracted_at) AS _extracted_at,
    count(*) AS schedule_lines
  FROM lines
  GROUP BY PO_NUMBER, PO_ITEM
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
  l.schedule_lines,
  l.CURRENCY AS currency,
  x.eur_per_unit,
  CAST(round(l.NET_PRICE / nullif(l.PRICE_UNIT, 0) * x.eur_per_unit, 2) AS DECIMAL(18, 2)) AS net_price_eur,
  CAST(round(l.NET_VALUE * x.eur_per_unit, 2) AS DECIMAL(18, 2)) AS net_value_eur,
  CAST(l.DOC_DATE AS DATE) AS order_date,
  CAST(l.DELIV_DATE AS DATE) AS delivery_date,
  coalesce(l.DEL_COMPL, false) AS delivery_completed,
  l.DELETE_IND <> '' AS deleted,
  l.CHANGED_ON AS changed_on,
  l._extracted_at
FROM latest AS l
LEFT JOIN reference.facilities AS f ON CAST(f.sap_plant AS VARCHAR) = l.PLANT
LEFT JOIN reference.fx_rates AS x ON x.currency = l.CURRENCY
