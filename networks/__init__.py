"""Analyses of networks: graphs, capacity, failures and street lighting (pure functions over the twin's tables)."""
