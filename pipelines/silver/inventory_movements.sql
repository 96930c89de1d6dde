/*
description: >
  Every stock movement, from both systems in one shape: SAP material documents
  (BAPI_GOODSMVT_GETITEMS: 101 goods receipt, 261 issue to production, 321 release from inspection...)
  and ERP material transactions (MTL_MATERIAL_TRANSACTIONS, CDC applied in SCN order). Quantities are
  signed: receipts positive, issues negative.
inputs:
  - bronze.sap_bapi_goodsmvt_getitems
  - bronze.erp_mtl_material_transactions
  - bronze.erp_mtl_system_items_b
  - bronze.erp_mtl_parameters
  - reference.facilities
  - reference.erp_organizations
key: [source_system, movement_id]
quarantine:
  - when: material_id IS NULL
    reason: movement of an unknown material
  - when: posted_at IS NULL
    reason: movement without a posting date
quality:
  completeness: [facility_id, material_id, movement_type, posted_at]
  consistency:
    - quantity <> 0
expectations:
  - not_null: [source_system, movement_id, material_id, quantity]
  - accepted_values: { column: source_system, values: [sap, oracle-erp] }
  - { relationship: { column: material_id, to: silver.materials.material_id }, severity: warn }
synapse:
  distribution: HASH(material_id)
*/
WITH sap AS (
  SELECT * FROM bronze.sap_bapi_goodsmvt_getitems
  QUALIFY row_number() OVER (PARTITION BY MAT_DOC, DOC_YEAR, MATDOC_ITM ORDER BY _extracted_at DESC, _batch_id DESC, _file DESC) = 1
),
erp AS (
  SELECT * FROM bronze.erp_mtl_material_transactions
  QUALIFY row_number() OVER (
    PARTITION BY TRANSACTION_ID ORDER BY CAST(_scn AS HUGEINT) DESC, _extracted_at DESC, _batch_id DESC, _file DESC
  ) = 1
),
items AS (
  SELECT DISTINCT INVENTORY_ITEM_ID, SEGMENT1 FROM bronze.erp_mtl_system_items_b WHERE SEGMENT1 IS NOT NULL
),
orgs AS (
  SELECT p.ORGANIZATION_ID, o.facility_id
  FROM bronze.erp_mtl_parameters AS p
  JOIN reference.erp_organizations AS o ON o.organization_code = p.ORGANIZATION_CODE
  QUALIFY row_number() OVER (PARTITION BY p.ORGANIZATION_ID ORDER BY CAST(p._scn AS HUGEINT) DESC) = 1
)
SELECT
  'sap' AS source_system,
  MAT_DOC || '/' || DOC_YEAR || '/' || MATDOC_ITM AS movement_id,
  f.facility_id,
  MATERIAL AS material_id,
  MOVE_TYPE AS movement_type,
  CASE WHEN MOVE_TYPE IN ('101', '501', '521', '561') THEN ENTRY_QNT
       WHEN MOVE_TYPE IN ('102', '201', '261', '551', '601') THEN -ENTRY_QNT
       ELSE 0 END AS quantity,
  ENTRY_UOM AS uom,
  nullif(PO_NUMBER, '') AS po_number,
  nullif(PO_ITEM, '00000') AS po_item,
  nullif(VENDOR, '') AS vendor,
  PSTNG_DATE AS posted_at,
  _extracted_at
FROM sap
LEFT JOIN reference.facilities AS f ON CAST(f.sap_plant AS VARCHAR) = sap.PLANT
UNION ALL
SELECT
  'oracle-erp',
  e.TRANSACTION_ID,
  o.facility_id,
  i.SEGMENT1,
  e.TRANSACTION_TYPE_ID,
  e.PRIMARY_QUANTITY,
  e.TRANSACTION_UOM,
  NULL, NULL, NULL,
  e.TRANSACTION_DATE,
  e._extracted_at
FROM erp AS e
LEFT JOIN items AS i USING (INVENTORY_ITEM_ID)
LEFT JOIN orgs AS o USING (ORGANIZATION_ID)
WHERE e._op <> 'D'
