"""Analyses of buildings: reversibility, energy, retrofit and carbon (pure functions over the twin's tables)."""
