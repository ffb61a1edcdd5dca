-- 0011_scenarios: the overlay and the verdicts of a scenario run (scenarios/, issue 9).
--
-- Never edit this file once released (see 0001_core.sql). A scenario is a row of `scenarios` (its validated file
-- as JSON) and its KPIs are rows of `scenario_results` (0001_core.sql). These tables hold what a planner asks
-- next: which attributes of which building the scenario changes (the overlay, never a copy of the baseline), and
-- why a use change was applied or blocked. Deleting a scenario deletes its rows here, in one transaction.

CREATE TABLE scenario_overlay (
    scenario_id   INTEGER NOT NULL CHECK (scenario_id > 0),   -- -> scenarios.scenario_id
    building_id   VARCHAR NOT NULL,                           -- -> buildings.building_id, or a new building's id
    state         VARCHAR NOT NULL CHECK (state IN ('kept', 'converted', 'demolished', 'new')),
    use_before    VARCHAR,
    use_after     VARCHAR,
    dwellings_before DOUBLE,
    dwellings_after  DOUBLE,
    dpe_before    VARCHAR,
    dpe_after     VARCHAR,
    capex_eur     DOUBLE,
    PRIMARY KEY (scenario_id, building_id)
);
COMMENT ON TABLE scenario_overlay IS 'What a scenario changes, per building it touches (converted, retrofitted, demolished, new) at its horizon: the baseline is never modified.';

CREATE TABLE scenario_feasibility (
    scenario_id   INTEGER NOT NULL CHECK (scenario_id > 0),   -- -> scenarios.scenario_id
    intervention  INTEGER NOT NULL,                           -- index in the scenario file's interventions
    year          INTEGER NOT NULL,
    building_id   VARCHAR NOT NULL,
    path          VARCHAR NOT NULL,                           -- reversibility conversion path, e.g. office->housing
    convertible   BOOLEAN,                                    -- NULL = unknown
    score         DOUBLE,
    forced        BOOLEAN NOT NULL,
    applied       BOOLEAN NOT NULL,
    reason        VARCHAR NOT NULL,
    dwellings     DOUBLE,
    residents     DOUBLE,
    pupils        DOUBLE,
    capex_eur     DOUBLE,
    carbon_kept_kgco2e DOUBLE,                                -- A1-A3 of the kept structure (reversibility, IFC only)
    PRIMARY KEY (scenario_id, intervention, building_id)
);
COMMENT ON TABLE scenario_feasibility IS 'Each use change of a scenario: the reversibility verdict, whether it was forced, applied or blocked, and why.';
