-- 0010_imposed_loads: the design imposed floor load of each storey and where it comes from (issue 4). The
-- reversibility analysis compares it with the load of a new use (methods.md 1.3: a new use passes if
-- q_k(new) <= q_k(design)). Unknown stays NULL: never a guess.

ALTER TABLE storeys ADD COLUMN imposed_load_kn_m2 DOUBLE;
ALTER TABLE storeys ADD COLUMN imposed_load_source VARCHAR;
ALTER TABLE storeys ADD COLUMN imposed_load_category VARCHAR;
ALTER TABLE storeys ADD COLUMN imposed_load_evidence VARCHAR;
COMMENT ON COLUMN storeys.imposed_load_kn_m2 IS 'Design imposed floor load q_k, kN/m2; NULL when unknown.';
COMMENT ON COLUMN storeys.imposed_load_source IS 'Where imposed_load_kn_m2 comes from: pset (stated on the storey, its slabs or spaces), design_basis (stated on the building), use_category (EN 1991-1-1 Table 6.2 category of the storey use, methods.md 1.3); NULL when unknown.';
COMMENT ON COLUMN storeys.imposed_load_category IS 'EN 1991-1-1 category of the storey use (A, B, C1, C2, C3, C5, D, E1, F), when it can be told.';
COMMENT ON COLUMN storeys.imposed_load_evidence IS 'The property (Pset.Property) or the table row behind imposed_load_kn_m2.';
