"""Scenarios: files describing a future, their evaluation against the baseline, comparison and sweeps."""
