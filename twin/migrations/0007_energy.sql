-- 0006_energy: results of the energy analyses: building needs and delivered energy (buildings/energy*.py),
-- retrofit measures and packages (buildings/retrofit.py) and street-lighting options (networks/lighting.py).
--
-- Never edit this file once released (see 0001_core.sql). Same conventions: units in column names, results keyed
-- by scenario (0 = the twin as it is), relations documented in comments. An analysis replaces the rows of its
-- scenario (and building, package or option) in one transaction. Every row carries its assumptions as JSON.
-- The tables have no PRIMARY KEY on purpose: their writers keep the keys unique, and DuckDB's ART index turns the
-- replacement of 100,000 rows from about a second into tens of seconds (measured on res_energy).

CREATE TABLE res_energy (
    scenario_id               INTEGER NOT NULL DEFAULT 0 CHECK (scenario_id >= 0),
    building_id               VARCHAR NOT NULL,     -- -> buildings.building_id
    route                     VARCHAR NOT NULL CHECK (route IN ('ifc', 'lod1')),
    status                    VARCHAR NOT NULL CHECK (status IN ('ok', 'unknown')),
    unknown_reason            VARCHAR,              -- why the building could not be assessed (status unknown)
    floor_area_m2             DOUBLE CHECK (floor_area_m2 IS NULL OR floor_area_m2 >= 0),
    heating_need_monthly_kwh  DOUBLE[12],           -- January..December
    cooling_need_monthly_kwh  DOUBLE[12],
    heating_need_kwh          DOUBLE CHECK (heating_need_kwh IS NULL OR heating_need_kwh >= 0),
    heating_need_kwh_m2       DOUBLE,
    cooling_need_kwh          DOUBLE CHECK (cooling_need_kwh IS NULL OR cooling_need_kwh >= 0),
    cooling_need_kwh_m2       DOUBLE,
    h_tr_w_k                  DOUBLE,
    h_ve_w_k                  DOUBLE,
    carrier                   VARCHAR,              -- heating carrier: gas, oil, electric, heat_pump, district_heat, wood
    final_kwh                 DOUBLE,
    final_kwh_m2              DOUBLE,
    primary_kwh               DOUBLE,
    primary_kwh_m2            DOUBLE,
    co2_kg                    DOUBLE,
    co2_kg_m2                 DOUBLE,
    energy_cost_eur           DOUBLE,
    dpe_class                 VARCHAR NOT NULL CHECK (dpe_class IN ('A', 'B', 'C', 'D', 'E', 'F', 'G', 'unknown', 'not_applicable')),
    dpe_energy_class          VARCHAR NOT NULL,
    dpe_climate_class         VARCHAR NOT NULL,
    tertiary_subject          BOOLEAN,              -- décret tertiaire: tertiary use and >= 1,000 m2
    tertiary_target_2030_kwh  DOUBLE,
    tertiary_target_2040_kwh  DOUBLE,
    tertiary_target_2050_kwh  DOUBLE,
    metered_kwh               DOUBLE,               -- from res_consumption (latest year, all carriers)
    calibration_factor        DOUBLE,               -- metered_kwh / final_kwh
    calibrated_final_kwh      DOUBLE,               -- final_kwh x calibration_factor
    assumptions               JSON,
    computed_at               TIMESTAMP NOT NULL
    -- one row per (scenario_id, building_id), kept by buildings.energy_twin.store_energy; no PRIMARY KEY:
    -- DuckDB's index makes replacing a town's 100,000 rows take tens of seconds instead of one
);
COMMENT ON TABLE res_energy IS 'Monthly quasi-steady energy balance per building (ISO 13790 / 52016-1, methods.md 2.1), delivered energy, DPE class and décret tertiaire targets, with the route (ifc or lod1) and the assumptions.';
COMMENT ON COLUMN res_energy.heating_need_kwh_m2 IS 'Annual heating need per m2 of reference (conditioned) floor area, kWh/m2.';
COMMENT ON COLUMN res_energy.primary_kwh IS 'Primary energy, kWh: final x factor (electricity 1.9 from 2026, others 1; methods.md 2.4).';
COMMENT ON COLUMN res_energy.co2_kg IS 'Emissions, kgCO2e/yr, with the DPE factors per carrier (methods.md 2.4).';
COMMENT ON COLUMN res_energy.dpe_class IS 'DPE 2021 class (dwellings): the worse of the energy and climate classes; not_applicable for other uses.';
COMMENT ON COLUMN res_energy.calibration_factor IS 'Metered / modelled final energy; apply it by reading calibrated_final_kwh.';

CREATE TABLE res_retrofit (
    scenario_id           INTEGER NOT NULL DEFAULT 0 CHECK (scenario_id >= 0),
    building_id           VARCHAR NOT NULL,         -- -> buildings.building_id
    package               VARCHAR NOT NULL,         -- catalogue package name (or the single measure's name)
    measure               VARCHAR NOT NULL,         -- a measure of the package, or '*' for the whole package
    status                VARCHAR NOT NULL CHECK (status IN ('ok', 'unknown', 'not_applicable')),
    reason                VARCHAR,
    heating_need_before_kwh DOUBLE,
    heating_need_after_kwh  DOUBLE,
    final_saved_kwh       DOUBLE,                   -- incl. PV production used on site
    cost_saved_eur_yr     DOUBLE,
    co2_saved_t_yr        DOUBLE,
    capex_eur             DOUBLE,                   -- indicative (methods.md 2.3 market ranges)
    lifetime_yr           DOUBLE,
    simple_payback_yr     DOUBLE,
    npv_eur               DOUBLE,
    dpe_before            VARCHAR,
    dpe_after             VARCHAR,
    assumptions           JSON,
    computed_at           TIMESTAMP NOT NULL
    -- one row per (scenario_id, building_id, package, measure), kept by buildings.retrofit.store_retrofit
);
COMMENT ON TABLE res_retrofit IS 'Retrofit measures and packages per building: energy, money and CO2 saved, capex (indicative), payback, NPV and the DPE class after.';
COMMENT ON COLUMN res_retrofit.npv_eur IS 'Net present value over the lifetime: savings escalated by the price escalation and discounted, minus capex.';

CREATE TABLE res_lighting (
    scenario_id           INTEGER NOT NULL DEFAULT 0 CHECK (scenario_id >= 0),
    option                VARCHAR NOT NULL,         -- lighting option (profile) name
    level                 VARCHAR NOT NULL CHECK (level IN ('lamp', 'street', 'district', 'town')),
    entity_id             VARCHAR NOT NULL,         -- node_id, street name, district id, or the network id for town
    network_id            VARCHAR,                  -- -> networks.network_id
    lamps                 INTEGER NOT NULL CHECK (lamps >= 0),
    lamps_unknown         INTEGER NOT NULL CHECK (lamps_unknown >= 0),  -- without a wattage: left out of sums
    baseline_kwh          DOUBLE,
    option_kwh            DOUBLE,
    saving_kwh            DOUBLE,
    saving_percent        DOUBLE,
    cost_saved_eur_yr     DOUBLE,
    co2_saved_kg_yr       DOUBLE,
    capex_eur             DOUBLE,
    simple_payback_yr     DOUBLE,
    assumptions           JSON,
    computed_at           TIMESTAMP NOT NULL
    -- one row per (scenario_id, option, level, entity_id), kept by networks.lighting.store_lighting; no PRIMARY
    -- KEY: DuckDB's index makes replacing an option's 30,000 lamp rows take seconds instead of milliseconds
);
COMMENT ON COLUMN res_lighting.assumptions IS 'The inputs of the option (hours, ballast, wattages, prices, assumed lamps); NULL on lamp rows: read the town row of the same option.';
COMMENT ON TABLE res_lighting IS 'Street-lighting options (LED, dimming, presence detection) per lamp, street, district and town: energy, cost, CO2 and payback (methods.md 3).';
