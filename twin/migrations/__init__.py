"""Numbered SQL migrations, applied in order by :mod:`twin.schema`. Never edit one that has been released."""
