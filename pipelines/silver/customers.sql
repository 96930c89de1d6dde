/*
description: >
  Customer accounts (HZ_CUST_ACCOUNTS) with their organisation (HZ_PARTIES), CDC applied in SCN order.
  Carries personal data only through `contact_*` (the person parties of EBS are separate rows, see
  silver.customer_contacts); the governance issue encrypts such columns at landing.
inputs: [bronze.erp_hz_cust_accounts, bronze.erp_hz_parties]
key: [cust_account_id]
quarantine:
  - when: party_id IS NULL
    reason: account without a party
quality:
  completeness: [name, country, party_id]
  consistency:
    - active
expectations:
  - not_null: [cust_account_id, account_number, name]
  - unique: [account_number]
synapse:
  distribution: REPLICATE
*/
WITH accounts AS (
  SELECT * FROM bronze.erp_hz_cust_accounts
  QUALIFY row_number() OVER (PARTITION BY CUST_ACCOUNT_ID ORDER BY CAST(_scn AS DECIMAL(38, 0)) DESC, _extracted_at DESC, _file DESC) = 1
),
parties AS (
  SELECT * FROM bronze.erp_hz_parties
  QUALIFY row_number() OVER (PARTITION BY PARTY_ID ORDER BY CAST(_scn AS DECIMAL(38, 0)) DESC, _extracted_at DESC, _file DESC) = 1
)
SELECT
  a.CUST_ACCOUNT_ID AS cust_account_id,
  a.ACCOUNT_NUMBER AS account_number,
  a.PARTY_ID AS party_id,
  coalesce(p.PARTY_NAME, a.ACCOUNT_NAME) AS name,
  p.COUNTRY AS country,
  a.STATUS = 'A' AS active,
  a._extracted_at
FROM accounts AS a
LEFT JOIN parties AS p ON p.PARTY_ID = a.PARTY_ID AND p._op <> 'D'
WHERE a._op <> 'D'
