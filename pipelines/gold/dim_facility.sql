/*
description: The three plants, their time zone, MES product and SAP plant code.
inputs: [reference.facilities]
key: [facility_id]
expectations:
  - not_null: [facility_id, name, timezone]
synapse:
  distribution: REPLICATE
*/
SELECT facility_id, name, country, timezone, mes_vendor, CAST(sap_plant AS VARCHAR) AS sap_plant
FROM reference.facilities
