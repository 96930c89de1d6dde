/*
description: >
  Customer accounts with their contact person, one row per account: the account and its organisation
  (silver.customers) and the person at the customer we deal with (silver.customer_contacts, joined on
  the account's `contact_party_id`). Personal data: contact_first_name, contact_last_name,
  contact_email and contact_phone stay sealed (`pd1.` values, opened only through the API or Guardian
  for roles allowed personal data, each read audited); the contact's data subject is
  `erp-party:<contact_party_id>`. An erased subject's values stay unreadable (their key is destroyed)
  and are dropped (null) by the medallion run after the erasure. The expectations fail on any plaintext
  value. Company-wide: customers belong to no facility.
inputs: [silver.customers, silver.customer_contacts]
key: [cust_account_id]
expectations:
  - not_null: [cust_account_id, account_number, name]
  - unique: [account_number]
  - { relationship: { column: contact_party_id, to: silver.customer_contacts.party_id }, severity: warn }
  - condition: { name: contact_first_name sealed, sql: "contact_first_name IS NULL OR contact_first_name LIKE 'pd1.%'" }
  - condition: { name: contact_last_name sealed, sql: "contact_last_name IS NULL OR contact_last_name LIKE 'pd1.%'" }
  - condition: { name: contact_email sealed, sql: "contact_email IS NULL OR contact_email LIKE 'pd1.%'" }
  - condition: { name: contact_phone sealed, sql: "contact_phone IS NULL OR contact_phone LIKE 'pd1.%'" }
synapse:
  distribution: REPLICATE
*/
WITH accounts AS (
  SELECT * FROM silver.customers
),
contacts AS (
  SELECT * FROM silver.customer_contacts
)
SELECT
  a.cust_account_id,
  a.account_number,
  a.name,
  a.country,
  a.contact_party_id,
  c.first_name AS contact_first_name,
  c.last_name AS contact_last_name,
  c.email AS contact_email,
  c.phone AS contact_phone
FROM accounts AS a
LEFT JOIN contacts AS c ON c.party_id = a.contact_party_id
