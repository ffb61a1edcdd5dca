-- 0003_operations: tables of the sensor and report ingest (rollups, rejected readings). Filled by that work.
SELECT 1;
