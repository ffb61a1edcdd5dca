-- 0008_network_fireflow: the fire-flow check at every hydrant (networks/fireflow.py) and the loading of the
-- HTA/BT transformers of a GIS power network whose substations are points (networks/power.py).
--
-- Never edit this file once released (see 0001_core.sql). Same conventions as 0004_network_results.sql.

ALTER TABLE res_network_nodes ADD COLUMN transformer_loading_percent DOUBLE;
COMMENT ON COLUMN res_network_nodes.transformer_loading_percent IS 'Power: loading of the HTA/BT transformer behind a substation node drawn as a point (no transformer link in network_links), percent of its rated_kva; NULL elsewhere.';

CREATE TABLE res_network_fireflow (
    scenario_id         INTEGER NOT NULL DEFAULT 0 CHECK (scenario_id >= 0),
    network_id          VARCHAR NOT NULL,            -- -> networks.network_id
    node_id             VARCHAR NOT NULL,            -- -> network_nodes.node_id, the hydrant
    fire_flow_l_s       DOUBLE NOT NULL CHECK (fire_flow_l_s > 0),
    fire_flow_m3_h      DOUBLE NOT NULL CHECK (fire_flow_m3_h > 0),
    flow_basis          VARCHAR NOT NULL,            -- where the flow comes from: given, attribute, dn65, dn100, 2x100, default
    duration_h          DOUBLE NOT NULL CHECK (duration_h > 0),
    required_volume_m3  DOUBLE NOT NULL CHECK (required_volume_m3 > 0),
    static_pressure_m   DOUBLE,                      -- at the hydrant, peak demand, no fire flow
    residual_pressure_m DOUBLE,                      -- at the hydrant, peak demand + fire flow
    residual_pressure_bar DOUBLE,
    min_pressure_elsewhere_m DOUBLE,                 -- lowest junction pressure elsewhere during the fire flow
    min_pressure_node_id VARCHAR,                    -- -> network_nodes.node_id, where that lowest pressure is
    nodes_below_service_minimum INTEGER CHECK (nodes_below_service_minimum IS NULL OR nodes_below_service_minimum >= 0),
    min_residual_bar    DOUBLE NOT NULL,             -- the threshold judged against
    passes              BOOLEAN,                     -- NULL when EPANET gave no solution
    flag                VARCHAR NOT NULL CHECK (flag IN ('ok', 'low_residual_pressure', 'not_solved')),
    PRIMARY KEY (scenario_id, network_id, node_id)
);
COMMENT ON TABLE res_network_fireflow IS 'Fire-flow check (methods.md 5.1, row "Fire hydrant (DECI)"): each hydrant in turn draws its fire flow on top of the peak demand; residual pressure at the hydrant against the minimum (1 bar), lowest pressure elsewhere.';
COMMENT ON COLUMN res_network_fireflow.fire_flow_l_s IS 'Fire flow drawn at the hydrant, L/s (60 m3/h = 16.67 L/s for a DN100 hydrant, DECI).';
COMMENT ON COLUMN res_network_fireflow.flow_basis IS 'given (--flow-m3-h), attribute (fire_flow_m3_h of the node), dn65 / dn100 / 2x100 (hydrant size, DECI row), default (60 m3/h).';
COMMENT ON COLUMN res_network_fireflow.duration_h IS 'Duration the flow must be held, h (DECI: 2 h); the steady-state check assumes the sources hold it.';
COMMENT ON COLUMN res_network_fireflow.required_volume_m3 IS 'Volume the fire flow draws over the duration, m3 (60 m3/h x 2 h = 120 m3).';
COMMENT ON COLUMN res_network_fireflow.static_pressure_m IS 'Pressure head at the hydrant with the peak demand of the buildings and no fire flow, m.';
COMMENT ON COLUMN res_network_fireflow.residual_pressure_m IS 'Pressure head at the hydrant while it draws the fire flow, m.';
COMMENT ON COLUMN res_network_fireflow.min_pressure_elsewhere_m IS 'Lowest pressure head of the other junctions during the fire flow, m.';
COMMENT ON COLUMN res_network_fireflow.nodes_below_service_minimum IS 'Junctions (hydrant included) below the minimum service pressure during the fire flow.';
COMMENT ON COLUMN res_network_fireflow.passes IS 'residual_pressure_bar >= min_residual_bar.';
