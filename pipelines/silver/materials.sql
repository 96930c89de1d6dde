/*
description: >
  The material master: one row per ERP item (MTL_SYSTEM_ITEMS_B of the master organization, CDC
  applied in SCN order: the latest change wins, an item whose latest change is a delete is gone), with
  its stock limits and list price in EUR, and whether SAP knows it (BAPI_MATERIAL_GETLIST) — the
  reference MES orders and SAP purchase orders are checked against.
inputs: [bronze.erp_mtl_system_items_b, bronze.erp_mtl_parameters, bronze.sap_bapi_material_getlist]
key: [material_id]
quarantine:
  - when: material_id IS NULL
    reason: item without an item number (SEGMENT1)
quality:
  completeness: [description, uom, min_stock, max_stock, list_price_eur]
  consistency:
    - min_stock <= max_stock
    - in_sap
expectations:
  - not_null: [material_id, description, uom]
  - range: { column: min_stock, min: 0 }
  - condition: { name: min stock below max stock, sql: min_stock <= max_stock }
synapse:
  distribution: REPLICATE
*/
WITH master AS (
  SELECT ORGANIZATION_ID FROM bronze.erp_mtl_parameters
  WHERE ORGANIZATION_ID = MASTER_ORGANIZATION_ID AND _op <> 'D'
),
latest AS (
  SELECT * FROM bronze.erp_mtl_system_items_b
  WHERE ORGANIZATION_ID IN (SELECT ORGANIZATION_ID FROM master)
  QUALIFY row_number() OVER (
    PARTITION BY INVENTORY_ITEM_ID, ORGANIZATION_ID
    ORDER BY CAST(_scn AS HUGEINT) DESC, _extracted_at DESC, _batch_id DESC, _file DESC
  ) = 1
),
sap AS (SELECT DISTINCT MATERIAL FROM bronze.sap_bapi_material_getlist)
SELECT
  l.SEGMENT1 AS material_id,
  l.INVENTORY_ITEM_ID AS erp_item_id,
  l.DESCRIPTION AS description,
  l.PRIMARY_UOM_CODE AS uom,
  l.ITEM_TYPE AS item_type,
  l.PLANNING_MAKE_BUY_CODE AS make_buy_code,
  CAST(round(l.LIST_PRICE_PER_UNIT, 2) AS DECIMAL(18, 2)) AS list_price_eur,
  l.MIN_MINMAX_QUANTITY AS min_stock,
  l.MAX_MINMAX_QUANTITY AS max_stock,
  l.FIXED_LEAD_TIME AS lead_time_days,
  s.MATERIAL IS NOT NULL AS in_sap,
  l.LAST_UPDATE_DATE AS modified_at,
  CAST(l._scn AS VARCHAR) AS _scn,
  l._extracted_at
FROM latest AS l
LEFT JOIN sap AS s ON s.MATERIAL = l.SEGMENT1
WHERE l._op <> 'D'
