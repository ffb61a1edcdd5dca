-- 0001_core: the twin's core schema, version 1.
--
-- Never edit this file once released: the store records its checksum and refuses a file whose applied history
-- differs. Later capabilities add their tables in 0002_..., 0003_..., applied in order.
--
-- Conventions: units in column names (height_m, area_m2, u_value_w_m2k); every geometry is in the twin CRS
-- recorded in metadata('crs'); JSON columns hold open-ended attributes (property sets, source fields); times are
-- UTC TIMESTAMPs named *_utc or *_at. Relations are documented in comments rather than declared as FOREIGN KEYs:
-- DuckDB enforces foreign keys with indexes that forbid updating or deleting referenced rows, and the ingest
-- paths replace buildings and elements by id. The ingest code checks references instead.

CREATE TABLE metadata (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
COMMENT ON TABLE metadata IS 'Facts about the twin file itself: crs, engine versions, creation time. The crs never changes after creation.';

-- ---------------------------------------------------------------------------------------------------------------
-- Provenance
CREATE SEQUENCE imports_seq START 1;
CREATE TABLE imports (
    import_id     INTEGER PRIMARY KEY DEFAULT nextval('imports_seq'),
    kind          VARCHAR NOT NULL,            -- ifc, buildings, network, sensors, reports, demo, ...
    file_path     VARCHAR,
    sha256        VARCHAR,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    status        VARCHAR NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'unchanged')),
    counts        JSON,                        -- {"buildings": 12, "elements": 3400, ...}
    warnings      JSON,                        -- list of {"ref": ..., "message": ...}
    message       VARCHAR
);
COMMENT ON TABLE imports IS 'One row per import attempt: the file, its hash, when, how it ended, what it added and what it warned about.';
COMMENT ON COLUMN imports.sha256 IS 'SHA-256 of the imported file; re-importing a file with the same hash changes nothing.';

-- ---------------------------------------------------------------------------------------------------------------
-- Buildings and what is inside them
CREATE TABLE buildings (
    building_id          VARCHAR PRIMARY KEY,
    name                 VARCHAR,
    footprint            GEOMETRY,             -- polygon or multipolygon in the twin CRS
    footprint_area_m2    DOUBLE CHECK (footprint_area_m2 IS NULL OR footprint_area_m2 >= 0),
    height_m             DOUBLE CHECK (height_m IS NULL OR height_m >= 0),
    height_estimated     BOOLEAN NOT NULL DEFAULT false,
    storeys_above_ground INTEGER CHECK (storeys_above_ground IS NULL OR storeys_above_ground >= 0),
    storeys_below_ground INTEGER CHECK (storeys_below_ground IS NULL OR storeys_below_ground >= 0),
    storeys_estimated    BOOLEAN NOT NULL DEFAULT false,
    use                  VARCHAR CHECK (use IS NULL OR use IN
                             ('housing', 'office', 'commerce', 'industry', 'school', 'parking', 'public', 'other')),
    construction_year    INTEGER CHECK (construction_year IS NULL OR construction_year BETWEEN 1000 AND 2100),
    dwellings            INTEGER CHECK (dwellings IS NULL OR dwellings >= 0),
    source               VARCHAR NOT NULL CHECK (source IN ('ifc', 'gis', 'cityjson', 'scenario', 'manual')),
    source_ref           VARCHAR,              -- id in the source: IfcBuilding GlobalId, BD TOPO ID, CityJSON key
    ifc_building_id      VARCHAR,              -- a GIS building linked to the IFC building that details it
    import_id            INTEGER,              -- -> imports.import_id
    attributes           JSON                  -- source fields kept as they were
);
COMMENT ON TABLE buildings IS 'Every building of the twin, from IFC or GIS; the IFC detail wins where both describe one building.';
COMMENT ON COLUMN buildings.footprint IS 'Ground footprint polygon in the twin CRS.';
COMMENT ON COLUMN buildings.footprint_area_m2 IS 'Area of the footprint, m2.';
COMMENT ON COLUMN buildings.height_m IS 'Height above ground to the top of the roof, m; NULL when unknown (never a silent zero).';
COMMENT ON COLUMN buildings.height_estimated IS 'True when height_m was estimated (storeys x default storey height) rather than read.';
COMMENT ON COLUMN buildings.storeys_estimated IS 'True when storeys_above_ground was estimated from the height.';
COMMENT ON COLUMN buildings.use IS 'Main use in the twin vocabulary: housing, office, commerce, industry, school, parking, public, other.';
CREATE INDEX buildings_footprint_rtree ON buildings USING RTREE (footprint);

CREATE TABLE storeys (
    storey_id              VARCHAR PRIMARY KEY,  -- IfcBuildingStorey GlobalId, or building_id/level
    building_id            VARCHAR NOT NULL,     -- -> buildings.building_id
    name                   VARCHAR,
    level_index            INTEGER,              -- 0 = ground floor, negative below ground
    elevation_m            DOUBLE,
    floor_to_floor_m       DOUBLE CHECK (floor_to_floor_m IS NULL OR floor_to_floor_m > 0),
    free_height_m          DOUBLE CHECK (free_height_m IS NULL OR free_height_m > 0),
    gross_floor_area_m2    DOUBLE CHECK (gross_floor_area_m2 IS NULL OR gross_floor_area_m2 >= 0),
    attributes             JSON
);
COMMENT ON TABLE storeys IS 'Storeys of the buildings, with elevation, floor-to-floor and free height (slab and ceiling taken off).';
COMMENT ON COLUMN storeys.free_height_m IS 'Clear height under the ceiling or the slab above, m.';

CREATE TABLE spaces (
    space_id        VARCHAR PRIMARY KEY,         -- IfcSpace GlobalId
    building_id     VARCHAR NOT NULL,            -- -> buildings.building_id
    storey_id       VARCHAR,                     -- -> storeys.storey_id
    name            VARCHAR,
    long_name       VARCHAR,
    usage           VARCHAR,
    area_m2         DOUBLE CHECK (area_m2 IS NULL OR area_m2 >= 0),
    volume_m3       DOUBLE CHECK (volume_m3 IS NULL OR volume_m3 >= 0),
    capacity_persons INTEGER CHECK (capacity_persons IS NULL OR capacity_persons >= 0),
    footprint       GEOMETRY,
    attributes      JSON
);
COMMENT ON TABLE spaces IS 'Rooms and zones (IfcSpace) with their names decoded, use, area, volume and capacity.';

CREATE TABLE elements (
    ifc_guid           VARCHAR PRIMARY KEY,      -- IFC GlobalId (22 characters)
    building_id        VARCHAR NOT NULL,         -- -> buildings.building_id
    storey_id          VARCHAR,                  -- -> storeys.storey_id
    ifc_class          VARCHAR NOT NULL,         -- IfcWall, IfcSlab, IfcColumn, ...
    predefined_type    VARCHAR,
    type_name          VARCHAR,                  -- name of the type object, if any
    name               VARCHAR,
    psets              JSON,                     -- every property set: {"Pset_WallCommon": {...}, ...}
    quantities         JSON,                     -- every quantity set, computed ones marked
    materials          JSON,                     -- materials and layer sets with thicknesses
    is_external        BOOLEAN,
    load_bearing       BOOLEAN,
    u_value_w_m2k      DOUBLE CHECK (u_value_w_m2k IS NULL OR u_value_w_m2k > 0),
    u_value_source     VARCHAR CHECK (u_value_source IS NULL OR u_value_source IN ('pset', 'layers', 'default')),
    fire_rating        VARCHAR,
    acoustic_rating    VARCHAR,
    import_id          INTEGER                   -- -> imports.import_id
);
COMMENT ON TABLE elements IS 'Every IfcElement of the IFC buildings with its properties, quantities, materials and common flags.';
COMMENT ON COLUMN elements.u_value_w_m2k IS 'Thermal transmittance, W/(m2.K): from the property set, else from material layers, else NULL.';

-- ---------------------------------------------------------------------------------------------------------------
-- Networks
CREATE TABLE networks (
    network_id  VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL CHECK (kind IN ('water', 'power', 'heat', 'gas', 'lighting', 'road')),
    name        VARCHAR,
    source      VARCHAR,
    import_id   INTEGER,                         -- -> imports.import_id
    attributes  JSON
);
COMMENT ON TABLE networks IS 'Utility and road networks: water, power, heat, gas, street lighting, roads.';

CREATE TABLE network_nodes (
    node_id      VARCHAR PRIMARY KEY,
    network_id   VARCHAR NOT NULL,               -- -> networks.network_id
    node_kind    VARCHAR NOT NULL,               -- junction, reservoir, tank, bus, substation, light, ...
    geom         GEOMETRY,                       -- point in the twin CRS
    elevation_m  DOUBLE,
    attributes   JSON                            -- kept with units in names: base_demand_l_s, voltage_kv, ...
);
COMMENT ON TABLE network_nodes IS 'Nodes of the networks (junctions, reservoirs, buses, lamps...) with their position.';
CREATE INDEX network_nodes_geom_rtree ON network_nodes USING RTREE (geom);

CREATE TABLE network_links (
    link_id      VARCHAR PRIMARY KEY,
    network_id   VARCHAR NOT NULL,               -- -> networks.network_id
    from_node    VARCHAR NOT NULL,               -- -> network_nodes.node_id
    to_node      VARCHAR NOT NULL,               -- -> network_nodes.node_id
    link_kind    VARCHAR NOT NULL,               -- pipe, pump, valve, line, cable, transformer, street, ...
    geom         GEOMETRY,                       -- linestring in the twin CRS
    length_m     DOUBLE CHECK (length_m IS NULL OR length_m >= 0),
    diameter_mm  DOUBLE CHECK (diameter_mm IS NULL OR diameter_mm > 0),
    attributes   JSON                            -- roughness_c, voltage_kv, max_i_ka, material, ...
);
COMMENT ON TABLE network_links IS 'Links of the networks (pipes, cables, transformers, streets) between two nodes.';

CREATE TABLE service_connections (
    building_id  VARCHAR NOT NULL,               -- -> buildings.building_id
    network_id   VARCHAR NOT NULL,               -- -> networks.network_id
    node_id      VARCHAR NOT NULL,               -- -> network_nodes.node_id
    distance_m   DOUBLE NOT NULL CHECK (distance_m >= 0),
    PRIMARY KEY (building_id, network_id)
);
COMMENT ON TABLE service_connections IS 'Which node of each network serves each building, and how far it is.';

-- ---------------------------------------------------------------------------------------------------------------
-- Operations: sensors, readings, alerts, citizen reports
CREATE TABLE sensors (
    sensor_id   VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL CHECK (kind IN ('temperature', 'humidity', 'co2', 'occupancy', 'electricity_meter',
                    'gas_meter', 'water_flow', 'water_pressure', 'streetlight_status', 'traffic_count',
                    'air_quality', 'parking')),
    unit_ucum   VARCHAR NOT NULL,                -- UCUM code: Cel, [ppm], kW.h, m3, L/s, Pa, ...
    name        VARCHAR,
    location    GEOMETRY,                        -- point in the twin CRS
    asset_kind  VARCHAR CHECK (asset_kind IS NULL OR asset_kind IN
                    ('building', 'storey', 'space', 'element', 'network_node', 'network_link', 'streetlight')),
    asset_id    VARCHAR,
    attributes  JSON
);
COMMENT ON TABLE sensors IS 'Sensor registry: what each sensor measures, in which unit, where, and the asset it is attached to.';
COMMENT ON COLUMN sensors.unit_ucum IS 'Unit of the readings as a UCUM code (Cel, [ppm], kW.h, L/s, ...).';

CREATE TABLE readings (
    sensor_id  VARCHAR NOT NULL,                 -- -> sensors.sensor_id
    time_utc   TIMESTAMP NOT NULL,               -- observation time, UTC
    value      DOUBLE NOT NULL                   -- in the unit of sensors.unit_ucum
);
COMMENT ON TABLE readings IS 'Sensor readings, one row per observation; no index, so that batch appends stay at Arrow speed.';
COMMENT ON COLUMN readings.time_utc IS 'Observation time in UTC.';

CREATE SEQUENCE alerts_seq START 1;
CREATE TABLE alerts (
    alert_id         INTEGER PRIMARY KEY DEFAULT nextval('alerts_seq'),
    sensor_id        VARCHAR,                    -- -> sensors.sensor_id
    rule_id          VARCHAR,
    severity         VARCHAR NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
    status           VARCHAR NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'closed')),
    message          VARCHAR NOT NULL,
    value            DOUBLE,
    opened_at        TIMESTAMP NOT NULL,
    acknowledged_at  TIMESTAMP,
    acknowledged_by  VARCHAR,
    closed_at        TIMESTAMP
);
COMMENT ON TABLE alerts IS 'Alerts raised by rules on readings, with their lifecycle: open, acknowledged (by whom), closed.';

CREATE TABLE reports (
    report_id          VARCHAR PRIMARY KEY,      -- Open311 service_request_id
    service_code       VARCHAR,
    service_name       VARCHAR,
    description        VARCHAR,
    status             VARCHAR NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    requested_at       TIMESTAMP,
    updated_at         TIMESTAMP,
    location           GEOMETRY,                 -- point in the twin CRS
    address            VARCHAR,
    media_url          VARCHAR,
    asset_kind         VARCHAR,
    asset_id           VARCHAR,
    asset_distance_m   DOUBLE CHECK (asset_distance_m IS NULL OR asset_distance_m >= 0)
);
COMMENT ON TABLE reports IS 'Citizen reports (Open311 GeoReport v2) linked to the nearest relevant asset. Personal fields (name, e-mail, phone) are never stored.';

-- ---------------------------------------------------------------------------------------------------------------
-- Scenarios and their results
CREATE SEQUENCE scenarios_seq START 1;
CREATE TABLE scenarios (
    scenario_id  INTEGER PRIMARY KEY DEFAULT nextval('scenarios_seq'),
    name         VARCHAR NOT NULL UNIQUE,
    description  VARCHAR,
    spec         JSON,                           -- the validated scenario file
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP
);
COMMENT ON TABLE scenarios IS 'Scenarios: overlays on the baseline (scenario 0), never copies of it.';
INSERT INTO scenarios (scenario_id, name, description, spec, created_at)
VALUES (0, 'baseline', 'The twin as imported, with no intervention.', '{}', now()::TIMESTAMP);

CREATE TABLE scenario_results (
    scenario_id  INTEGER NOT NULL,               -- -> scenarios.scenario_id (0 = baseline)
    building_id  VARCHAR,                        -- NULL for totals
    kpi          VARCHAR NOT NULL,               -- final_energy_kwh, co2_t, capex_eur, pupils, ...
    year         INTEGER,
    value        DOUBLE,
    unit         VARCHAR
);
COMMENT ON TABLE scenario_results IS 'KPIs per scenario, per building (or total) and per year.';
