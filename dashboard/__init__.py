"""The Dash 3D dashboard: district, building and operations pages (scenarios arrive with issue 9).

Layout: :mod:`dashboard.app` (the shell, routing and login), one module per page in :mod:`dashboard.pages`,
pure figure builders in :mod:`dashboard.figures` (tables in, plotly figures out), the queries they need in
:mod:`dashboard.data`, the KPI registry in :mod:`dashboard.kpis`, users and roles in :mod:`dashboard.auth`.
``twin serve`` runs the app as a thread of the process that owns the twin (:mod:`twin.commands.serve`).
"""
