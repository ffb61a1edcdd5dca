-- 0006_reversibility: results of the reversibility assessment (buildings/reversibility.py, issue 7).
--
-- Never edit this file once released (see 0001_core.sql). Results are keyed by scenario (0 = the twin as it is),
-- building and conversion path; an assessment replaces the rows of the (scenario, building, path) it assessed in
-- one transaction. Relations are documented in comments and checked by the code.

CREATE TABLE res_reversibility (
    scenario_id        INTEGER NOT NULL DEFAULT 0 CHECK (scenario_id >= 0),
    building_id        VARCHAR NOT NULL,        -- -> buildings.building_id
    path               VARCHAR NOT NULL,        -- conversion path of the rule file, e.g. office->housing
    route              VARCHAR NOT NULL CHECK (route IN ('ifc', 'gis')),
    rules_version      VARCHAR NOT NULL,
    convertible        BOOLEAN,                 -- NULL = unknown (a veto criterion could not be judged)
    vetoes             JSON NOT NULL,           -- [{criterion, value, veto, reason}, ...]
    score              DOUBLE NOT NULL CHECK (score BETWEEN 0 AND 100),
    score_max          DOUBLE NOT NULL CHECK (score_max BETWEEN 0 AND 100),
    coverage           DOUBLE NOT NULL CHECK (coverage BETWEEN 0 AND 1),
    storey_scores      JSON NOT NULL,           -- [{storey_id, name, level_index, area_m2, score, convertible}]
    difficulty         VARCHAR CHECK (difficulty IS NULL OR difficulty IN ('light', 'medium', 'heavy')),
    converted_area_m2  DOUBLE CHECK (converted_area_m2 IS NULL OR converted_area_m2 >= 0),
    dwellings          DOUBLE CHECK (dwellings IS NULL OR dwellings >= 0),
    residents          DOUBLE CHECK (residents IS NULL OR residents >= 0),
    pupils             DOUBLE CHECK (pupils IS NULL OR pupils >= 0),
    workstations       DOUBLE CHECK (workstations IS NULL OR workstations >= 0),
    cost_low_eur       DOUBLE CHECK (cost_low_eur IS NULL OR cost_low_eur >= 0),
    cost_high_eur      DOUBLE CHECK (cost_high_eur IS NULL OR cost_high_eur >= 0),
    structure_volume_m3 DOUBLE,
    carbon_kept_kgco2e DOUBLE CHECK (carbon_kept_kgco2e IS NULL OR carbon_kept_kgco2e >= 0),
    carbon_coverage    DOUBLE,
    assessed_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (scenario_id, building_id, path)
);
COMMENT ON TABLE res_reversibility IS 'Can a building change use: veto and 0-100 score per conversion path (Transformation Potential Meter, methods.md 1.1), yield, cost and embodied carbon kept.';
COMMENT ON COLUMN res_reversibility.route IS 'ifc: full criteria from the IFC model; gis: LoD1 screening in which what cannot be seen is unknown.';
COMMENT ON COLUMN res_reversibility.score IS 'Weighted score 0-100, unknown criteria counted 0 (a lower bound).';
COMMENT ON COLUMN res_reversibility.score_max IS 'Weighted score 0-100, unknown criteria counted full (an upper bound).';
COMMENT ON COLUMN res_reversibility.coverage IS 'Share of the criteria weight that could be judged, 0-1.';
COMMENT ON COLUMN res_reversibility.converted_area_m2 IS 'Gross floor area of the storeys in scope that no veto excludes, m2.';
COMMENT ON COLUMN res_reversibility.dwellings IS 'floor(converted area x net/gross / mean dwelling), methods.md 1.6.';
COMMENT ON COLUMN res_reversibility.cost_low_eur IS 'Conversion cost, low end: converted area x EUR/m2 of the difficulty class (rule file, twin convention).';
COMMENT ON COLUMN res_reversibility.carbon_kept_kgco2e IS 'Indicative A1-A3 embodied carbon of the kept structure, kgCO2e (buildings/carbon.py, methods.md 2.6); NULL for GIS buildings.';

CREATE TABLE res_reversibility_criteria (
    scenario_id     INTEGER NOT NULL DEFAULT 0 CHECK (scenario_id >= 0),
    building_id     VARCHAR NOT NULL,           -- -> buildings.building_id
    path            VARCHAR NOT NULL,
    storey_id       VARCHAR,                    -- -> storeys.storey_id; NULL at building level
    criterion       VARCHAR NOT NULL,
    label           VARCHAR NOT NULL,
    value           DOUBLE,                     -- measured; NULL or NaN = unknown
    unit            VARCHAR NOT NULL,
    threshold       DOUBLE,
    worst           DOUBLE,
    veto_threshold  DOUBLE,
    source          VARCHAR NOT NULL,           -- the methods.md row the criterion implements
    status          VARCHAR NOT NULL CHECK (status IN ('pass', 'fail', 'unknown')),
    weight          DOUBLE NOT NULL CHECK (weight >= 0),
    is_veto         BOOLEAN NOT NULL,
    vetoed          BOOLEAN,
    fraction        DOUBLE CHECK (fraction IS NULL OR fraction BETWEEN 0 AND 1),
    evidence        JSON NOT NULL,              -- {"ifc": [GlobalIds]} or {"gis": [fields], "source_ref": id}
    note            VARCHAR
);
COMMENT ON TABLE res_reversibility_criteria IS 'Each criterion of each reversibility result: measured value, threshold, source row, status, weight, veto and evidence.';
COMMENT ON COLUMN res_reversibility_criteria.evidence IS 'What the value was read from: IFC GlobalIds, or the GIS fields and the source id.';
