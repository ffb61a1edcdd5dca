-- 0005_live: live ingest (MQTT) and alert rules.
--
-- Never edit this file once released (see 0001_core.sql). Same conventions: units in column names, UTC
-- TIMESTAMPs named *_utc or *_at, relations documented in comments and checked by the ingest code rather than
-- declared as FOREIGN KEYs.

CREATE TABLE ingested_messages (
    msg_id       VARCHAR PRIMARY KEY,            -- publisher's message id, or sha256 of the payload when absent
    received_at  TIMESTAMP NOT NULL,             -- when the batch holding the message was committed, UTC
    source       VARCHAR,                        -- e.g. the MQTT topic
    n_readings   INTEGER NOT NULL CHECK (n_readings >= 0)  -- readings in the message (stored or rejected)
);
COMMENT ON TABLE ingested_messages IS 'Live messages already ingested, written in the same transaction as their readings, so that a message delivered again (a publisher re-send, a broker redelivery after a crash) is stored once.';
COMMENT ON COLUMN ingested_messages.msg_id IS 'Message id given by the publisher (msg_id of the payload); for a payload without one, sha256 of the payload bytes.';

CREATE TABLE alert_rules (
    rule_id      VARCHAR PRIMARY KEY,
    kind         VARCHAR NOT NULL CHECK (kind IN ('above', 'below', 'no_data', 'rate_of_change', 'zero_run')),
    sensor_id    VARCHAR,                        -- -> sensors.sensor_id; NULL: every sensor of sensor_kind
    sensor_kind  VARCHAR,                        -- sensors.kind; NULL with sensor_id set
    threshold    DOUBLE,                         -- above/below: sensor unit; rate_of_change: sensor unit per hour
    duration_s   DOUBLE NOT NULL DEFAULT 0 CHECK (duration_s >= 0),
    severity     VARCHAR NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
    enabled      BOOLEAN NOT NULL DEFAULT true,
    CHECK (sensor_id IS NOT NULL OR sensor_kind IS NOT NULL),
    CHECK (kind IN ('no_data', 'zero_run') OR threshold IS NOT NULL)
);
COMMENT ON TABLE alert_rules IS 'Rules evaluated on live readings; each opens at most one alert per sensor at a time (alerts.rule_id).';
COMMENT ON COLUMN alert_rules.threshold IS 'above/below: limit in the sensor unit; rate_of_change: limit of |dvalue/dt| in the sensor unit per hour; unused by no_data and zero_run. A user parameter: no default.';
COMMENT ON COLUMN alert_rules.duration_s IS 'above/below/zero_run: how long the condition must hold, s (0: at the first reading); no_data: silence after which the alert opens, s.';
