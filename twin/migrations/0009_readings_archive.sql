-- 0009_readings_archive: archived readings (Parquet by month), the import that brought each reading, and the
-- run state of the alert rules.
--
-- Never edit this file once released (see 0001_core.sql). Same conventions: units in column names, UTC
-- TIMESTAMPs named *_utc or *_at, relations documented in comments and checked by the ingest code rather than
-- declared as FOREIGN KEYs.

ALTER TABLE readings ADD COLUMN import_id INTEGER;  -- -> imports.import_id; NULL for live readings
COMMENT ON COLUMN readings.import_id IS 'Import (file) that brought the reading, so that a duplicate from another file can name where the first came from; NULL for live readings (MQTT, live feed).';

CREATE TABLE readings_archive (
    file_path      VARCHAR PRIMARY KEY,          -- relative to the twin file's folder, '/' separators
    month          VARCHAR NOT NULL CHECK (regexp_full_match(month, '\d{4}-\d{2}')),  -- YYYY-MM (UTC)
    n_readings     BIGINT NOT NULL CHECK (n_readings > 0),
    sum_value      DOUBLE NOT NULL,              -- sum of the values, as written and verified
    min_time_utc   TIMESTAMP NOT NULL,
    max_time_utc   TIMESTAMP NOT NULL,
    cutoff_utc     TIMESTAMP NOT NULL,           -- readings before this time were archived by the run
    archived_at    TIMESTAMP NOT NULL,
    CHECK (min_time_utc <= max_time_utc)
);
COMMENT ON TABLE readings_archive IS 'Parquet files holding readings moved out of the readings table, one row per file (month partitions, <twin file>.archive/readings/month=YYYY-MM/*.parquet). A file is part of the twin only once listed here: it is listed in the same transaction that deletes its readings from readings, so that every reading is in exactly one of the two. readings_all unions both.';
COMMENT ON COLUMN readings_archive.file_path IS 'Path of the Parquet file relative to the folder of the twin file (the twin and its .archive folder move together).';
COMMENT ON COLUMN readings_archive.sum_value IS 'Sum of the values of the file, in the units of the sensors, checked against the table before its readings were deleted.';

-- Before any archive exists the union is the table alone; ingest.readings_archive rewrites this view (with the
-- archived files) in each archive transaction.
CREATE VIEW readings_all AS SELECT sensor_id, time_utc, value, import_id FROM readings;
COMMENT ON VIEW readings_all IS 'Every reading: the readings table and the archived Parquet files (readings_archive). Read history through it.';

CREATE TABLE alert_rule_state (
    rule_id      VARCHAR NOT NULL,               -- -> alert_rules.rule_id
    sensor_id    VARCHAR NOT NULL,               -- -> sensors.sensor_id
    last_time    TIMESTAMP,                      -- latest reading evaluated, UTC
    last_value   DOUBLE,                         -- its value, sensor unit
    run_start    TIMESTAMP,                      -- first reading of the current run where the condition holds, UTC
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (rule_id, sensor_id)
);
COMMENT ON TABLE alert_rule_state IS 'What each alert rule remembers per sensor between batches (the start of a run above a threshold, the previous reading), saved with the alert changes so that a restarted twin serve continues durations instead of starting them again.';
COMMENT ON COLUMN alert_rule_state.run_start IS 'Time of the first reading of the current run in which the rule condition holds, UTC; NULL when it does not hold.';

ALTER TABLE alerts ADD COLUMN note VARCHAR;  -- what the operator wrote when acknowledging (or closing)
COMMENT ON COLUMN alerts.note IS 'Free text of the operator who acknowledged or closed the alert (what was done, who was sent).';
