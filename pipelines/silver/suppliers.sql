/*
description: >
  Suppliers as EBS knows them (AP_SUPPLIERS, SEGMENT1 = the SAP vendor number) with their contact
  person (AP_SUPPLIER_CONTACTS: personal data), CDC applied in SCN order.
inputs: [bronze.erp_ap_suppliers, bronze.erp_ap_supplier_contacts]
key: [vendor]
quarantine:
  - when: vendor IS NULL
    reason: supplier without a vendor number
quality:
  completeness: [name, currency, contact_email]
expectations:
  - not_null: [vendor, vendor_id, name]
synapse:
  distribution: REPLICATE
*/
WITH suppliers AS (
  SELECT * FROM bronze.erp_ap_suppliers
  QUALIFY row_number() OVER (PARTITION BY VENDOR_ID ORDER BY CAST(_scn AS DECIMAL(38, 0)) DESC, _extracted_at DESC, _file DESC) = 1
),
contacts AS (
  SELECT * FROM bronze.erp_ap_supplier_contacts
  QUALIFY row_number() OVER (PARTITION BY VENDOR_CONTACT_ID ORDER BY CAST(_scn AS DECIMAL(38, 0)) DESC, _extracted_at DESC, _file DESC) = 1
)
SELECT
  s.SEGMENT1 AS vendor,
  s.VENDOR_ID AS vendor_id,
  s.VENDOR_NAME AS name,
  s.INVOICE_CURRENCY_CODE AS currency,
  s.ATTRIBUTE1 AS country,
  s.ENABLED_FLAG = 'Y' AS enabled,
  min(c.VENDOR_CONTACT_ID) AS contact_id,
  min(c.FIRST_NAME || ' ' || c.LAST_NAME) AS contact_name,
  min(c.EMAIL_ADDRESS) AS contact_email,
  min(c.PHONE) AS contact_phone,
  max(s._extracted_at) AS _extracted_at
FROM suppliers AS s
LEFT JOIN contacts AS c ON c.VENDOR_ID = s.VENDOR_ID AND c._op <> 'D'
WHERE s._op <> 'D'
GROUP BY ALL
