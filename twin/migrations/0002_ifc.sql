-- 0002_ifc: what the IFC ingest stores besides buildings/storeys/spaces/elements: the source files and their
-- georeferencing, per-element triangle meshes, and the building facts derived from the model (the inputs of the
-- reversibility and energy analyses). All positions are in the twin CRS.

CREATE TABLE ifc_sources (
    source_path       VARCHAR PRIMARY KEY,       -- absolute path of the imported file
    sha256            VARCHAR NOT NULL,
    schema_name       VARCHAR NOT NULL,          -- IFC2X3, IFC4, IFC4X3_ADD2, ...
    import_id         INTEGER NOT NULL,          -- -> imports.import_id
    georef_method     VARCHAR NOT NULL CHECK (georef_method IN
                          ('at', 'map_conversion', 'epset_map_conversion', 'rigid_operation', 'site_reflatlon', 'none')),
    origin_x_m        DOUBLE NOT NULL,           -- twin-CRS position of the model's local origin
    origin_y_m        DOUBLE NOT NULL,
    origin_z_m        DOUBLE NOT NULL,
    rotation_deg      DOUBLE NOT NULL,           -- angle from twin-CRS east to the model's local x axis, anticlockwise
    scale             DOUBLE NOT NULL,           -- local metres -> twin-CRS metres
    georef            JSON                       -- every source found, with its position, and the notes
);
COMMENT ON TABLE ifc_sources IS 'IFC files imported into the twin, with the georeferencing used to place them.';
COMMENT ON COLUMN ifc_sources.rotation_deg IS 'Rotation of the local x axis from twin-CRS east, degrees, anticlockwise.';

ALTER TABLE buildings ADD COLUMN ifc_source_path VARCHAR;   -- -> ifc_sources.source_path for IFC buildings
ALTER TABLE elements ADD COLUMN source_path VARCHAR;        -- -> ifc_sources.source_path
ALTER TABLE spaces ADD COLUMN source_path VARCHAR;
ALTER TABLE storeys ADD COLUMN source_path VARCHAR;
ALTER TABLE storeys ADD COLUMN window_to_floor_ratio DOUBLE;
COMMENT ON COLUMN storeys.window_to_floor_ratio IS 'Window area / gross floor area of the storey (RT2012 art. 20 asks >= 1/6 of SHAB for housing).';

CREATE TABLE element_meshes (
    ifc_guid        VARCHAR PRIMARY KEY,         -- -> elements.ifc_guid (or spaces.space_id)
    building_id     VARCHAR NOT NULL,
    source_path     VARCHAR NOT NULL,
    ifc_class       VARCHAR NOT NULL,
    origin_x_m      DOUBLE NOT NULL,             -- vertices are relative to this twin-CRS point (float32 precision)
    origin_y_m      DOUBLE NOT NULL,
    vertices        BLOB NOT NULL,               -- float32 x, y, z triples, metres, twin-CRS axes
    faces           BLOB NOT NULL,               -- int32 vertex index triples
    n_vertices      INTEGER NOT NULL CHECK (n_vertices >= 0),
    n_faces         INTEGER NOT NULL CHECK (n_faces >= 0),
    volume_m3       DOUBLE,                      -- from the closed mesh (divergence theorem)
    surface_m2      DOUBLE,
    min_z_m         DOUBLE,
    max_z_m         DOUBLE,
    kernel          VARCHAR NOT NULL             -- manifold or opencascade
);
COMMENT ON TABLE element_meshes IS 'Triangle meshes of IFC elements and spaces, produced once at ingest for the dashboard and the reports.';
COMMENT ON COLUMN element_meshes.vertices IS 'float32 x,y,z triples in metres, relative to (origin_x_m, origin_y_m) in the twin CRS.';

CREATE TABLE building_facts (
    building_id                     VARCHAR PRIMARY KEY,
    footprint_area_m2               DOUBLE,
    gross_floor_area_m2             DOUBLE,
    depth_m                         DOUBLE,      -- width of the minimum rotated rectangle of the footprint
    length_m                        DOUBLE,      -- length of that rectangle
    max_facade_distance_m           DOUBLE,      -- largest distance from floor area to the nearest facade
    principal_axis_deg              DOUBLE,      -- direction of the long side, from twin-CRS east
    storeys_above_ground            INTEGER,
    height_m                        DOUBLE,
    window_to_floor_ratio           DOUBLE,
    loadbearing_wall_m_per_m2       DOUBLE,      -- load-bearing wall length per m2 of gross floor area
    internal_loadbearing_wall_m_per_m2 DOUBLE,   -- the same, internal walls only (cross walls)
    column_count                    INTEGER,
    column_grid_m                   DOUBLE,      -- typical column spacing along the principal axis
    stair_cores                     INTEGER,
    stair_separation_m              DOUBLE,      -- largest distance between two stair cores
    lifts                           INTEGER,
    shafts                          INTEGER,
    core_position                   VARCHAR CHECK (core_position IS NULL OR core_position IN ('facade', 'central', 'mixed')),
    evidence                        JSON         -- GlobalIds behind each fact
);
COMMENT ON TABLE building_facts IS 'Facts derived from the IFC model of each building: depth, floor areas, structure, cores. Inputs of reversibility and energy.';
COMMENT ON COLUMN building_facts.depth_m IS 'Building depth: width of the minimum rotated rectangle of the footprint, m.';
COMMENT ON COLUMN building_facts.column_grid_m IS 'Median spacing of columns along the principal axis, m.';

CREATE TABLE envelope_surfaces (
    building_id     VARCHAR NOT NULL,
    surface_kind    VARCHAR NOT NULL CHECK (surface_kind IN ('wall', 'window', 'door', 'roof', 'ground_floor')),
    orientation     VARCHAR NOT NULL CHECK (orientation IN ('N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW', 'horizontal')),
    area_m2         DOUBLE NOT NULL CHECK (area_m2 >= 0),
    u_value_w_m2k   DOUBLE,                      -- area-weighted over the elements that have one
    u_known_area_m2 DOUBLE NOT NULL,             -- how much of the area has a known U-value
    elements        INTEGER NOT NULL,
    ifc_guids       JSON
);
COMMENT ON TABLE envelope_surfaces IS 'External envelope areas of IFC buildings by kind and orientation, with their U-values.';

CREATE TABLE vertical_circulation (
    ifc_guid               VARCHAR NOT NULL,
    building_id            VARCHAR NOT NULL,
    kind                   VARCHAR NOT NULL CHECK (kind IN ('stair', 'lift', 'shaft')),
    x_m                    DOUBLE NOT NULL,
    y_m                    DOUBLE NOT NULL,
    distance_to_facade_m   DOUBLE,
    position               VARCHAR CHECK (position IS NULL OR position IN ('facade', 'central'))
);
COMMENT ON TABLE vertical_circulation IS 'Stairs, lifts and shafts of IFC buildings with their position relative to the facades.';

CREATE TABLE ids_results (
    import_id       INTEGER,                     -- -> imports.import_id (NULL when the import was refused)
    source_path     VARCHAR NOT NULL,
    ids_path        VARCHAR NOT NULL,
    specification   VARCHAR NOT NULL,
    requirement     VARCHAR,
    status          VARCHAR NOT NULL CHECK (status IN ('pass', 'fail')),
    failed_guids    JSON,
    checked_at      TIMESTAMP NOT NULL
);
COMMENT ON TABLE ids_results IS 'Information Delivery Specification checks (ifctester) of imported IFC files, per requirement.';
