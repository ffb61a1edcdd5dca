"""The Dash 3D dashboard: district, building, scenarios and operations pages."""
