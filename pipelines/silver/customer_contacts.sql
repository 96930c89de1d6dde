/*
description: >
  The people at customers (HZ_PARTIES of type PERSON), CDC applied. Personal data: names, e-mail,
  phone — each row is one data subject (`party_id`, subject id `erp-party:<party_id>`), the key of
  access and erasure requests. Those four columns hold the values sealed at landing (`pd1.` text: the
  plaintext never reaches the lake); a reader allowed personal data opens them, and an erased
  subject's values are null. The expectations guard against plaintext ever arriving here.
inputs: [bronze.erp_hz_parties]
key: [party_id]
quality:
  completeness: [first_name, last_name, email, phone]
expectations:
  - not_null: [party_id]
  - condition: { name: first_name sealed, sql: "first_name IS NULL OR first_name LIKE 'pd1.%'" }
  - condition: { name: last_name sealed, sql: "last_name IS NULL OR last_name LIKE 'pd1.%'" }
  - condition: { name: email sealed, sql: "email IS NULL OR email LIKE 'pd1.%'" }
  - condition: { name: phone sealed, sql: "phone IS NULL OR phone LIKE 'pd1.%'" }
synapse:
  distribution: REPLICATE
*/
SELECT
  PARTY_ID AS party_id,
  PERSON_FIRST_NAME AS first_name,
  PERSON_LAST_NAME AS last_name,
  EMAIL_ADDRESS AS email,
  PRIMARY_PHONE_NUMBER AS phone,
  COUNTRY AS country,
  _extracted_at
FROM bronze.erp_hz_parties
WHERE PARTY_TYPE = 'PERSON'
QUALIFY row_number() OVER (PARTITION BY PARTY_ID ORDER BY CAST(_scn AS HUGEINT) DESC, _extracted_at DESC, _file DESC) = 1
  AND _op <> 'D'
