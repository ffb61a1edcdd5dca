-- 0003_operations: tables of the sensor and report ingest and of the analyses of measured data.
--
-- Never edit this file once released (see 0001_core.sql). Same conventions: units in column names, UTC
-- TIMESTAMPs named *_utc or *_at, relations documented in comments and checked by the ingest code rather than
-- declared as FOREIGN KEYs.

-- ---------------------------------------------------------------------------------------------------------------
-- Readings: hourly roll-up, latest value, rejected rows
CREATE TABLE readings_hourly (
    sensor_id  VARCHAR NOT NULL,                 -- -> sensors.sensor_id
    hour_utc   TIMESTAMP NOT NULL,               -- start of the hour, UTC
    n          BIGINT NOT NULL CHECK (n > 0),    -- number of readings in the hour
    sum        DOUBLE NOT NULL,                  -- in the unit of sensors.unit_ucum
    min        DOUBLE NOT NULL,
    max        DOUBLE NOT NULL,
    CHECK (min <= max),
    PRIMARY KEY (sensor_id, hour_utc)
);
COMMENT ON TABLE readings_hourly IS 'Hourly roll-up of readings per sensor, updated in the same transaction as every insert into readings. Additive (n, sum, min, max) so that a new batch merges into the hours it touches; the mean is sum / n.';
COMMENT ON COLUMN readings_hourly.hour_utc IS 'Start of the hour in UTC (date_trunc(''hour'', readings.time_utc)).';
COMMENT ON COLUMN readings_hourly.n IS 'Number of readings of the sensor in the hour.';
COMMENT ON COLUMN readings_hourly.sum IS 'Sum of the values of the hour, in the unit of sensors.unit_ucum; mean = sum / n.';
COMMENT ON COLUMN readings_hourly.min IS 'Smallest value of the hour, in the unit of sensors.unit_ucum.';
COMMENT ON COLUMN readings_hourly.max IS 'Largest value of the hour, in the unit of sensors.unit_ucum.';

CREATE TABLE sensor_latest (
    sensor_id  VARCHAR PRIMARY KEY,              -- -> sensors.sensor_id
    time_utc   TIMESTAMP NOT NULL,               -- observation time of the latest reading, UTC
    value      DOUBLE NOT NULL                   -- in the unit of sensors.unit_ucum
);
COMMENT ON TABLE sensor_latest IS 'The latest reading of each sensor (by observation time), kept up to date with every insert so that the current state never scans the readings history.';
COMMENT ON COLUMN sensor_latest.time_utc IS 'Observation time of the latest reading, UTC; an older reading arriving late does not replace it.';
COMMENT ON COLUMN sensor_latest.value IS 'Value of the latest reading, in the unit of sensors.unit_ucum.';

CREATE TABLE rejected_readings (
    received_at  TIMESTAMP NOT NULL,             -- when the twin received (imported) the row, UTC
    source       VARCHAR NOT NULL,               -- file path, or the live channel (e.g. mqtt topic)
    row_ref      VARCHAR,                        -- 'line 12', 'row 5', 'line 3 column CO2', message id
    sensor_id    VARCHAR,                        -- as given, unknown sensors included
    time_raw     VARCHAR,                        -- the time as given, as text
    value_raw    VARCHAR,                        -- the value as given, as text
    unit_raw     VARCHAR,                        -- the unit as given, when the source has one
    reason       VARCHAR NOT NULL CHECK (reason IN ('unknown_sensor', 'invalid_time', 'future_time',
                     'missing_value', 'non_numeric_value', 'unit_mismatch', 'invalid_json', 'invalid_payload')),
    detail       VARCHAR,                        -- one readable line about the reason
    payload      VARCHAR,                        -- the raw message of a live channel (invalid JSON), else NULL
    import_id    INTEGER                         -- -> imports.import_id (NULL for live messages)
);
COMMENT ON TABLE rejected_readings IS 'Readings refused by validation (unknown sensor, bad time or value, time far in the future, unit mismatch, invalid JSON), kept with the reason; the valid rows of the same batch are stored.';
COMMENT ON COLUMN rejected_readings.received_at IS 'When the twin received the row, UTC.';
COMMENT ON COLUMN rejected_readings.time_raw IS 'Observation time as given by the source, as text (not converted to UTC).';
COMMENT ON COLUMN rejected_readings.value_raw IS 'Value as given by the source, as text (unit: unit_raw, else the sensor unit).';

-- ---------------------------------------------------------------------------------------------------------------
-- Citizen reports: the Open311 service list
CREATE TABLE open311_services (
    service_code   VARCHAR PRIMARY KEY,
    service_name   VARCHAR,
    description    VARCHAR,
    group_name     VARCHAR,                      -- Open311 "group"
    keywords       VARCHAR,                      -- comma-separated, as published
    type           VARCHAR CHECK (type IS NULL OR type IN ('realtime', 'batch', 'blackbox')),
    metadata       BOOLEAN,                      -- true when the service takes extra attributes
    asset_network_kind VARCHAR CHECK (asset_network_kind IS NULL OR asset_network_kind IN
                       ('water', 'power', 'heat', 'gas', 'lighting', 'road')),
    asset_kind     VARCHAR CHECK (asset_kind IS NULL OR asset_kind IN ('network_node', 'network_link')),
    import_id      INTEGER                       -- -> imports.import_id
);
COMMENT ON TABLE open311_services IS 'Open311 GeoReport v2 service list, with the kind of asset its reports are linked to (lamp of a lighting network, pipe of a water network, street of a road network).';
COMMENT ON COLUMN open311_services.asset_network_kind IS 'networks.kind searched for the nearest asset of a report of this service; NULL when reports are not linked.';

-- ---------------------------------------------------------------------------------------------------------------
-- Analyses of measured data (results keyed by scenario like the other res_ tables; measurements are scenario 0)
CREATE TABLE res_utilisation (
    scenario_id         INTEGER NOT NULL DEFAULT 0 CHECK (scenario_id = 0),  -- measured: baseline only
    level               VARCHAR NOT NULL CHECK (level IN ('sensor', 'space', 'building')),
    entity_id           VARCHAR NOT NULL,        -- sensor_id, space_id or building_id
    period_start_utc    TIMESTAMP NOT NULL,
    period_end_utc      TIMESTAMP NOT NULL,
    samples_open        BIGINT NOT NULL CHECK (samples_open >= 0),
    samples_occupied    BIGINT NOT NULL CHECK (samples_occupied >= 0 AND samples_occupied <= samples_open),
    utilisation_ratio   DOUBLE CHECK (utilisation_ratio IS NULL OR utilisation_ratio BETWEEN 0 AND 1),
    threshold_ratio     DOUBLE NOT NULL CHECK (threshold_ratio BETWEEN 0 AND 1),
    below_threshold     BOOLEAN,                 -- NULL when unknown (no sample in opening hours)
    opening_hours       VARCHAR NOT NULL,        -- e.g. 'Mon-Fri 08:00-18:00 Europe/Paris'
    computed_at         TIMESTAMP NOT NULL,
    CHECK (period_end_utc >= period_start_utc)
);
COMMENT ON TABLE res_utilisation IS 'Utilisation from occupancy sensors: share of the samples taken in opening hours that saw the space occupied, per sensor, space and building, flagged below a threshold.';
COMMENT ON COLUMN res_utilisation.utilisation_ratio IS 'samples_occupied / samples_open, 0-1 (a share of opening hours when sampling is regular); NULL when no sample fell in opening hours.';
COMMENT ON COLUMN res_utilisation.threshold_ratio IS 'Threshold under which the entity is flagged, 0-1.';
COMMENT ON COLUMN res_utilisation.period_start_utc IS 'First sample of the period analysed, UTC.';
COMMENT ON COLUMN res_utilisation.period_end_utc IS 'Last sample of the period analysed, UTC.';

CREATE TABLE res_consumption (
    scenario_id              INTEGER NOT NULL DEFAULT 0 CHECK (scenario_id = 0),
    level                    VARCHAR NOT NULL CHECK (level IN ('meter', 'building')),
    entity_id                VARCHAR NOT NULL,   -- sensor_id of the meter, or building_id
    building_id              VARCHAR,            -- -> buildings.building_id (NULL when the meter is not attached)
    carrier                  VARCHAR NOT NULL,   -- electricity, gas, ... (from sensors.kind)
    year                     INTEGER NOT NULL,
    consumption_kwh          DOUBLE NOT NULL,    -- sum of the readings of the year, as measured
    consumption_filled_kwh   DOUBLE,             -- gaps and zero runs filled with the mean of valid intervals
    intervals_expected       BIGINT NOT NULL CHECK (intervals_expected >= 0),
    intervals_read           BIGINT NOT NULL CHECK (intervals_read >= 0),
    intervals_missing        BIGINT NOT NULL CHECK (intervals_missing >= 0),
    intervals_zero_run       BIGINT NOT NULL CHECK (intervals_zero_run >= 0),
    interval_h               DOUBLE NOT NULL CHECK (interval_h > 0),
    computed_at              TIMESTAMP NOT NULL
);
COMMENT ON TABLE res_consumption IS 'Consumption per meter and per building and year from energy meter readings, with the counts of missing intervals and zero-filled runs, to calibrate the energy model.';
COMMENT ON COLUMN res_consumption.consumption_kwh IS 'Measured energy of the year, kWh: the sum of the interval readings.';
COMMENT ON COLUMN res_consumption.consumption_filled_kwh IS 'Energy of the year with missing and zero-run intervals filled by the mean of the valid intervals, kWh; NULL when no valid interval.';
COMMENT ON COLUMN res_consumption.interval_h IS 'Length of one metering interval, hours.';

CREATE TABLE res_meter_gaps (
    scenario_id   INTEGER NOT NULL DEFAULT 0 CHECK (scenario_id = 0),
    sensor_id     VARCHAR NOT NULL,              -- -> sensors.sensor_id
    building_id   VARCHAR,                       -- -> buildings.building_id
    gap_kind      VARCHAR NOT NULL CHECK (gap_kind IN ('missing', 'zero_run')),
    start_utc     TIMESTAMP NOT NULL,            -- first interval of the gap
    end_utc       TIMESTAMP NOT NULL,            -- end of the last interval (exclusive)
    intervals     BIGINT NOT NULL CHECK (intervals > 0),
    duration_h    DOUBLE NOT NULL CHECK (duration_h > 0),
    computed_at   TIMESTAMP NOT NULL,
    CHECK (end_utc > start_utc)
);
COMMENT ON TABLE res_meter_gaps IS 'Gaps of the meter series: runs of missing intervals, and runs of zeros long enough to be suspected gaps filled with zero upstream.';
COMMENT ON COLUMN res_meter_gaps.end_utc IS 'End of the gap (exclusive), UTC.';
COMMENT ON COLUMN res_meter_gaps.duration_h IS 'Length of the gap, hours.';
