/*
description: >
  Process capability per stream (machine, material, characteristic): Cp and Cpk from the within-
  subgroup sigma (mean range / d2), Pp and Ppk from the overall sample sigma. Needs at least 5
  subgroups of 5.
inputs: [gold.fact_quality, gold.spc_xbar_r, reference.spc_constants]
key: [facility_id, machine_id, material_id, characteristic]
expectations:
  - not_null: [cp, cpk, sigma_within]
  - condition: { name: cpk not above cp, sql: cpk <= cp + 1e-9 }
synapse:
  distribution: ROUND_ROBIN
*/
WITH streams AS (
  SELECT facility_id, machine_id, material_id, characteristic,
    count(*) AS measurements, avg(value) AS mean, stddev_samp(value) AS sigma_overall,
    max(lsl) AS lsl, max(usl) AS usl
  FROM gold.fact_quality
  GROUP BY ALL
),
ranges AS (
  SELECT facility_id, machine_id, material_id, characteristic, count(*) AS subgroups, any_value(r_bar) AS r_bar
  FROM gold.spc_xbar_r
  GROUP BY ALL
  HAVING count(*) >= 5
)
SELECT
  s.facility_id, s.machine_id, s.material_id, s.characteristic,
  s.measurements, r.subgroups, round(s.mean, 7) AS mean, s.lsl, s.usl,
  round(r.r_bar / c.d2, 9) AS sigma_within,
  round(s.sigma_overall, 9) AS sigma_overall,
  round((s.usl - s.lsl) / (6 * r.r_bar / c.d2), 4) AS cp,
  round(least(s.usl - s.mean, s.mean - s.lsl) / (3 * r.r_bar / c.d2), 4) AS cpk,
  round((s.usl - s.lsl) / (6 * s.sigma_overall), 4) AS pp,
  round(least(s.usl - s.mean, s.mean - s.lsl) / (3 * s.sigma_overall), 4) AS ppk
FROM streams AS s
JOIN ranges AS r USING (facility_id, machine_id, material_id, characteristic)
JOIN reference.spc_constants AS c ON c.subgroup_size = 5
WHERE r.r_bar > 0 AND s.sigma_overall > 0
