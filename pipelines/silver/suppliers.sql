/*
description: >
  Suppliers as EBS knows them (AP_SUPPLIERS, SEGMENT1 = the SAP vendor number) with their contact
  person (AP_SUPPLIER_CONTACTS), CDC applied in SCN order. A supplier with several contacts shows the
  one with the lowest VENDOR_CONTACT_ID. The contact's names, e-mail and phone are personal data
  (subject id `erp-supplier-contact:<contact_id>`), held as the values sealed at landing (`pd1.`
  text; null once the subject is erased); the expectations guard against plaintext.
inputs: [bronze.erp_ap_suppliers, bronze.erp_ap_supplier_contacts]
key: [vendor]
quarantine:
  - when: vendor IS NULL
    reason: supplier without a vendor number
quality:
  completeness: [name, currency, contact_email]
expectations:
  - not_null: [vendor, vendor_id, name]
  - condition: { name: contact_first_name sealed, sql: "contact_first_name IS NULL OR contact_first_name LIKE 'pd1.%'" }
  - condition: { name: contact_last_name sealed, sql: "contact_last_name IS NULL OR contact_last_name LIKE 'pd1.%'" }
  - condition: { name: contact_email sealed, sql: "contact_email IS NULL OR contact_email LIKE 'pd1.%'" }
  - condition: { name: contact_phone sealed, sql: "contact_phone IS NULL OR contact_phone LIKE 'pd1.%'" }
synapse:
  distribution: REPLICATE
*/
WITH suppliers AS (
  SELECT * FROM bronze.erp_ap_suppliers
  QUALIFY row_number() OVER (PARTITION BY VENDOR_ID ORDER BY CAST(_scn AS HUGEINT) DESC, _extracted_at DESC, _file DESC) = 1
),
contacts AS (
  SELECT * FROM bronze.erp_ap_supplier_contacts
  QUALIFY row_number() OVER (PARTITION BY VENDOR_CONTACT_ID ORDER BY CAST(_scn AS HUGEINT) DESC, _extracted_at DESC, _file DESC) = 1
),
first_contact AS (
  -- One contact per supplier, all its columns from the same row: the lowest contact id still there.
  SELECT * FROM contacts
  WHERE _op <> 'D'
  QUALIFY row_number() OVER (PARTITION BY VENDOR_ID ORDER BY CAST(VENDOR_CONTACT_ID AS HUGEINT)) = 1
)
SELECT
  s.SEGMENT1 AS vendor,
  s.VENDOR_ID AS vendor_id,
  s.VENDOR_NAME AS name,
  s.INVOICE_CURRENCY_CODE AS currency,
  s.ATTRIBUTE1 AS country,
  s.ENABLED_FLAG = 'Y' AS enabled,
  c.VENDOR_CONTACT_ID AS contact_id,
  c.FIRST_NAME AS contact_first_name,
  c.LAST_NAME AS contact_last_name,
  c.EMAIL_ADDRESS AS contact_email,
  c.PHONE AS contact_phone,
  s._extracted_at
FROM suppliers AS s
LEFT JOIN first_contact AS c ON c.VENDOR_ID = s.VENDOR_ID
WHERE s._op <> 'D'
