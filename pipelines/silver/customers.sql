/*
description: >
  Customer accounts (HZ_CUST_ACCOUNTS) with their organisation (HZ_PARTIES), CDC applied in SCN order.
  No personal data: the account's contact person is a separate PERSON party (silver.customer_contacts),
  named here only by its id, `contact_party_id` (ATTRIBUTE1 of the account, where this EBS keeps what a
  standard site relates through HZ_RELATIONSHIPS).
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
  QUALIFY row_number() OVER (PARTITION BY CUST_ACCOUNT_ID ORDER BY CAST(_scn AS HUGEINT) DESC, _extracted_at DESC, _file DESC) = 1
),
parties AS (
  SELECT * FROM bronze.erp_hz_parties
  QUALIFY row_number() OVER (PARTITION BY PARTY_ID ORDER BY CAST(_scn AS HUGEINT) DESC, _extracted_at DESC, _file DESC) = 1
)
SELECT
  a.CUST_ACCOUNT_ID AS cust_account_id,
  a.ACCOUNT_NUMBER AS account_number,
  a.PARTY_ID AS party_id,
  a.ATTRIBUTE1 AS contact_party_id,
  coalesce(p.PARTY_NAME, a.ACCOUNT_NAME) AS name,
  p.COUNTRY AS country,
  a.STATUS = 'A' AS active,
  a._extracted_at
FROM accounts AS a
LEFT JOIN parties AS p ON p.PARTY_ID = a.PARTY_ID AND p._op <> 'D'
WHERE a._op <> 'D'
