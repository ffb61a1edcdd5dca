"""Every input format into the twin: IFC, GIS buildings, CityJSON, networks, sensors and citizen reports.

Reprojection into the twin CRS happens here and only here.
"""
