-- 0004_network_results: results of the network analyses (networks/capacity.py, networks/failure.py).
--
-- Never edit this file once released (see 0001_core.sql). Same conventions: units in column names, results keyed
-- by scenario (0 = the twin as it is), relations documented in comments and checked by the analysis code rather
-- than declared as FOREIGN KEYs. An analysis replaces the rows of its (scenario, network) in one transaction.

CREATE TABLE res_network_nodes (
    scenario_id     INTEGER NOT NULL DEFAULT 0 CHECK (scenario_id >= 0),
    network_id      VARCHAR NOT NULL,            -- -> networks.network_id
    node_id         VARCHAR NOT NULL,            -- -> network_nodes.node_id
    analysis        VARCHAR NOT NULL CHECK (analysis IN ('water_check', 'power_check')),
    head_m          DOUBLE,                      -- hydraulic head (water)
    pressure_m      DOUBLE,                      -- pressure head above the node (water)
    pressure_bar    DOUBLE,                      -- the same in bar (water)
    demand_l_s      DOUBLE,                      -- demand drawn at the node, building demand included (water)
    added_demand_l_s DOUBLE CHECK (added_demand_l_s IS NULL OR added_demand_l_s >= 0),
    buildings       INTEGER CHECK (buildings IS NULL OR buildings >= 0),
    residents       DOUBLE CHECK (residents IS NULL OR residents >= 0),
    voltage_pu      DOUBLE CHECK (voltage_pu IS NULL OR voltage_pu >= 0),
    voltage_deviation_percent DOUBLE,
    p_kw            DOUBLE,                      -- active power injected into the bus (power)
    flag            VARCHAR NOT NULL CHECK (flag IN ('ok', 'low_pressure', 'voltage_deviation', 'not_judged')),
    threshold       DOUBLE,                      -- the threshold the flag was judged against (see flag)
    PRIMARY KEY (scenario_id, network_id, node_id, analysis)
);
COMMENT ON TABLE res_network_nodes IS 'Per node results of a hydraulic (wntr / EPANET) or load-flow (pandapower) check, with the flag and the threshold it was judged against.';
COMMENT ON COLUMN res_network_nodes.scenario_id IS 'Scenario of the result; 0 = the twin as it is.';
COMMENT ON COLUMN res_network_nodes.head_m IS 'Hydraulic head, m (elevation + pressure head).';
COMMENT ON COLUMN res_network_nodes.pressure_m IS 'Pressure head, m of water column.';
COMMENT ON COLUMN res_network_nodes.pressure_bar IS 'Pressure, bar (pressure_m x 0.0980665).';
COMMENT ON COLUMN res_network_nodes.demand_l_s IS 'Demand drawn at the node, L/s: the network base demand plus the building demand added.';
COMMENT ON COLUMN res_network_nodes.added_demand_l_s IS 'Peak demand of the buildings served by the node, L/s (methods.md 5.1: residents x 148 L/day x C_p).';
COMMENT ON COLUMN res_network_nodes.residents IS 'Residents of the buildings served by the node (dwellings x 2.16 persons).';
COMMENT ON COLUMN res_network_nodes.voltage_pu IS 'Voltage magnitude, per unit of the bus nominal voltage.';
COMMENT ON COLUMN res_network_nodes.voltage_deviation_percent IS 'Voltage deviation from nominal, percent ((voltage_pu - 1) x 100).';
COMMENT ON COLUMN res_network_nodes.p_kw IS 'Active power injected at the bus, kW (pandapower res_bus.p_mw x 1000; positive = consumption).';
COMMENT ON COLUMN res_network_nodes.flag IS 'ok, low_pressure (water junction below the minimum pressure), voltage_deviation (bus outside the allowed band), not_judged (reservoirs, tanks, buses without a result).';
COMMENT ON COLUMN res_network_nodes.threshold IS 'Threshold of the flag: minimum pressure, m (water) or allowed voltage deviation, percent (power).';

CREATE TABLE res_network_links (
    scenario_id     INTEGER NOT NULL DEFAULT 0 CHECK (scenario_id >= 0),
    network_id      VARCHAR NOT NULL,            -- -> networks.network_id
    link_id         VARCHAR NOT NULL,            -- -> network_links.link_id
    analysis        VARCHAR NOT NULL CHECK (analysis IN ('water_check', 'power_check')),
    flow_l_s        DOUBLE,                      -- signed, positive from from_node to to_node (water)
    velocity_m_s    DOUBLE CHECK (velocity_m_s IS NULL OR velocity_m_s >= 0),
    headloss_m      DOUBLE,
    loading_percent DOUBLE CHECK (loading_percent IS NULL OR loading_percent >= 0),
    current_ka      DOUBLE CHECK (current_ka IS NULL OR current_ka >= 0),
    p_from_kw       DOUBLE,
    flag            VARCHAR NOT NULL CHECK (flag IN ('ok', 'high_velocity', 'overloaded', 'closed', 'not_judged')),
    threshold       DOUBLE,
    PRIMARY KEY (scenario_id, network_id, link_id, analysis)
);
COMMENT ON TABLE res_network_links IS 'Per link results of a hydraulic (wntr / EPANET) or load-flow (pandapower) check, with the flag and the threshold it was judged against.';
COMMENT ON COLUMN res_network_links.scenario_id IS 'Scenario of the result; 0 = the twin as it is.';
COMMENT ON COLUMN res_network_links.flow_l_s IS 'Flow, L/s; positive from from_node to to_node.';
COMMENT ON COLUMN res_network_links.velocity_m_s IS 'Mean velocity in the pipe, m/s (4Q / (pi D2), methods.md 5.1).';
COMMENT ON COLUMN res_network_links.headloss_m IS 'Head loss along the link, m (wntr link headloss; per unit length for pipes as EPANET reports it x length).';
COMMENT ON COLUMN res_network_links.loading_percent IS 'Loading of a line or transformer, percent of its rating (pandapower res_line / res_trafo).';
COMMENT ON COLUMN res_network_links.current_ka IS 'Largest current of the line or transformer (high-voltage side), kA.';
COMMENT ON COLUMN res_network_links.p_from_kw IS 'Active power entering the link at its from side, kW.';
COMMENT ON COLUMN res_network_links.flag IS 'ok, high_velocity (pipe above the velocity limit), overloaded (line or transformer above the maximum loading), closed (no flow by status), not_judged (pumps, valves).';
COMMENT ON COLUMN res_network_links.threshold IS 'Threshold of the flag: velocity limit, m/s (water) or maximum loading, percent (power).';

CREATE TABLE res_network_failures (
    scenario_id     INTEGER NOT NULL DEFAULT 0 CHECK (scenario_id >= 0),
    network_id      VARCHAR NOT NULL,            -- -> networks.network_id
    link_id         VARCHAR NOT NULL,            -- -> network_links.link_id, the link removed
    nodes_cut       INTEGER NOT NULL CHECK (nodes_cut >= 0),
    buildings_cut   INTEGER NOT NULL CHECK (buildings_cut >= 0),
    residents_cut   DOUBLE CHECK (residents_cut IS NULL OR residents_cut >= 0),
    base_demand_cut_l_s DOUBLE CHECK (base_demand_cut_l_s IS NULL OR base_demand_cut_l_s >= 0),
    rank            INTEGER NOT NULL CHECK (rank >= 1),
    PRIMARY KEY (scenario_id, network_id, link_id)
);
COMMENT ON TABLE res_network_failures IS 'N-1 ranking: for each link removed alone, the nodes, buildings and residents no longer connected to any source (reservoir, tank, external grid); rank 1 = most critical.';
COMMENT ON COLUMN res_network_failures.scenario_id IS 'Scenario of the result; 0 = the twin as it is.';
COMMENT ON COLUMN res_network_failures.nodes_cut IS 'Nodes left without a path to any source when the link is removed.';
COMMENT ON COLUMN res_network_failures.buildings_cut IS 'Buildings whose service node is cut off (service_connections).';
COMMENT ON COLUMN res_network_failures.residents_cut IS 'Residents of the buildings cut off (dwellings x 2.16 persons); NULL when no building has dwellings known.';
COMMENT ON COLUMN res_network_failures.base_demand_cut_l_s IS 'Network base demand of the nodes cut off, L/s (water; NULL for other kinds).';
COMMENT ON COLUMN res_network_failures.rank IS 'Rank by buildings cut, then residents, then nodes, then base demand cut (1 = most critical; ties share the lower rank).';
