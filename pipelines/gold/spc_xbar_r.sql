/*
description: >
  X-bar/R control chart per process stream (machine, material, characteristic): consecutive
  inspections in subgroups of 5, each subgroup's mean and range, the centre lines and 3-sigma control
  limits from the stream's mean range (A2, D3, D4 of reference/spc_constants.csv), and the Western
  Electric rules: 1 a mean beyond a control limit; 2 two of three beyond 2 sigma on one side; 3 four of
  five beyond 1 sigma on one side; 4 eight in a row on one side of the centre line.
inputs: [gold.fact_quality, reference.spc_constants]
key: [facility_id, machine_id, material_id, characteristic, subgroup]
expectations:
  - not_null: [xbar, r, center_line, ucl_x, lcl_x]
  - condition: { name: limits around the centre, sql: lcl_x <= center_line AND center_line <= ucl_x }
  - condition: { name: range not negative, sql: r >= 0 }
synapse:
  distribution: HASH(machine_id)
*/
WITH numbered AS (
  SELECT
    facility_id, machine_id, material_id, characteristic, value, measured_at,
    (row_number() OVER (PARTITION BY facility_id, machine_id, material_id, characteristic ORDER BY measured_at, measurement_id) - 1) // 5 AS subgroup
  FROM gold.fact_quality
),
subgroups AS (
  SELECT
    facility_id, machine_id, material_id, characteristic, CAST(subgroup AS BIGINT) AS subgroup,
    min(measured_at) AS first_at, max(measured_at) AS last_at,
    count(*) AS n,
    round(avg(value), 7) AS xbar,
    round(max(value) - min(value), 7) AS r
  FROM numbered
  GROUP BY ALL
  HAVING count(*) = 5
),
limits AS (
  SELECT s.*,
    round(avg(xbar) OVER stream, 7) AS center_line,
    round(avg(r) OVER stream, 7) AS r_bar,
    c.a2, c.d3, c.d4
  FROM subgroups AS s
  JOIN reference.spc_constants AS c ON c.subgroup_size = s.n
  WINDOW stream AS (PARTITION BY facility_id, machine_id, material_id, characteristic)
),
zones AS (
  SELECT *,
    center_line + a2 * r_bar AS ucl_x,
    center_line - a2 * r_bar AS lcl_x,
    d4 * r_bar AS ucl_r,
    d3 * r_bar AS lcl_r,
    -- The sigma of a subgroup mean: the control limits are 3 of them from the centre.
    a2 * r_bar / 3 AS sigma_xbar,
    sign(xbar - center_line) AS side
  FROM limits
),
flags AS (
  SELECT *,
    CASE WHEN sigma_xbar > 0 THEN (xbar - center_line) / sigma_xbar END AS z
  FROM zones
),
rules AS (
  SELECT *,
    coalesce(abs(z) > 3, false) AS rule_1,
    coalesce(count(*) FILTER (WHERE z > 2) OVER last3 >= 2 OR count(*) FILTER (WHERE z < -2) OVER last3 >= 2, false) AS rule_2,
    coalesce(count(*) FILTER (WHERE z > 1) OVER last5 >= 4 OR count(*) FILTER (WHERE z < -1) OVER last5 >= 4, false) AS rule_3,
    coalesce(count(*) OVER last8 = 8 AND (min(side) OVER last8 = 1 OR max(side) OVER last8 = -1), false) AS rule_4
  FROM flags
  WINDOW
    s AS (PARTITION BY facility_id, machine_id, material_id, characteristic ORDER BY subgroup),
    last3 AS (s ROWS 2 PRECEDING),
    last5 AS (s ROWS 4 PRECEDING),
    last8 AS (s ROWS 7 PRECEDING)
)
SELECT
  facility_id, machine_id, material_id, characteristic, subgroup, first_at, last_at,
  xbar, r, center_line, round(ucl_x, 7) AS ucl_x, round(lcl_x, 7) AS lcl_x, r_bar,
  round(ucl_r, 7) AS ucl_r, round(lcl_r, 7) AS lcl_r,
  rule_1, rule_2, rule_3, rule_4,
  rule_1 OR rule_2 OR rule_3 OR rule_4 AS out_of_control
FROM rules
