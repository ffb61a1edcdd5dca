"""Pure figure builders: Arrow tables and numpy arrays in, plotly figures out (no twin, no Dash, no I/O)."""
