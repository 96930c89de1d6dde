/*
description: >
  Daily stock snapshots per facility and material: the SAP warehouse stock (MARD: unrestricted,
  in quality inspection, blocked) of the day's last extraction, beside the ERP on-hand quantity of
  the same day (MTL_ONHAND_QUANTITIES_DETAIL, CDC applied), with the minimum stock and whether the
  unrestricted stock is below it.
inputs:
  - bronze.sap_rfc_read_table_mard
  - bronze.erp_mtl_onhand_quantities_detail
  - bronze.erp_mtl_system_items_b
  - bronze.erp_mtl_parameters
  - reference.facilities
  - reference.erp_organizations
  - silver.materials
key: [facility_id, material_id, snapshot_date]
expectations:
  - not_null: [facility_id, material_id, snapshot_date]
  - range: { column: unrestricted_qty, min: 0 }
synapse:
  distribution: HASH(material_id)
*/
WITH mard_rows AS (
  -- Delivery is at least once: an extraction landed twice (a run repeated after a crash) is still one
  -- snapshot, one row per material, plant and storage location.
  SELECT * FROM bronze.sap_rfc_read_table_mard
  QUALIFY row_number() OVER (PARTITION BY MATNR, WERKS, LGORT, _extracted_at ORDER BY _file) = 1
),
mard_days AS (
  SELECT f.facility_id, m.MATNR AS material_id,
    CAST(m._extracted_at AT TIME ZONE 'Europe/Berlin' AS DATE) AS snapshot_date,
    m._extracted_at, sum(m.LABST) AS unrestricted_qty, sum(m.INSME) AS inspection_qty, sum(m.SPEME) AS blocked_qty
  FROM mard_rows AS m
  JOIN reference.facilities AS f ON CAST(f.sap_plant AS VARCHAR) = m.WERKS
  GROUP BY f.facility_id, m.MATNR, m._extracted_at
),
mard AS (
  -- The day's last extraction is the day's snapshot.
  SELECT * FROM mard_days
  QUALIFY row_number() OVER (PARTITION BY facility_id, material_id, snapshot_date ORDER BY _extracted_at DESC) = 1
),
onhand AS (
  SELECT * FROM bronze.erp_mtl_onhand_quantities_detail
  QUALIFY row_number() OVER (
    PARTITION BY ONHAND_QUANTITIES_ID ORDER BY CAST(_scn AS HUGEINT) DESC, _extracted_at DESC, _file DESC
  ) = 1
),
erp AS (
  SELECT o.facility_id, i.SEGMENT1 AS material_id,
    CAST(max(h._extracted_at) AT TIME ZONE 'Europe/Berlin' AS DATE) AS snapshot_date,
    sum(h.PRIMARY_TRANSACTION_QUANTITY) AS erp_onhand_qty
  FROM onhand AS h
  JOIN (SELECT DISTINCT INVENTORY_ITEM_ID, SEGMENT1 FROM bronze.erp_mtl_system_items_b) AS i USING (INVENTORY_ITEM_ID)
  JOIN bronze.erp_mtl_parameters AS p USING (ORGANIZATION_ID)
  JOIN reference.erp_organizations AS o ON o.organization_code = p.ORGANIZATION_CODE
  WHERE h._op <> 'D' AND o.facility_id IS NOT NULL
  GROUP BY o.facility_id, i.SEGMENT1
)
SELECT
  facility_id, material_id, snapshot_date,
  coalesce(s.unrestricted_qty, 0) AS unrestricted_qty,
  coalesce(s.inspection_qty, 0) AS inspection_qty,
  coalesce(s.blocked_qty, 0) AS blocked_qty,
  e.erp_onhand_qty,
  m.min_stock, m.max_stock,
  -- Only where the warehouse keeps the material (a MARD row): an item a plant never stocks is no alert.
  coalesce(s.unrestricted_qty < m.min_stock, false) AS below_min_stock
FROM mard AS s
FULL OUTER JOIN erp AS e USING (facility_id, material_id, snapshot_date)
LEFT JOIN silver.materials AS m USING (material_id)
