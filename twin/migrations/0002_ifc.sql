-- 0002_ifc: tables of the IFC ingest (meshes, derived building facts, IDS reports). Filled by the IFC ingest work.
SELECT 1;
