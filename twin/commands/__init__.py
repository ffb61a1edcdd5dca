"""Command modules of the ``twin`` CLI, one per capability.

Each module here defines ``register(cli, commands)``: it adds its click commands or groups to the root group
``cli`` and the functions they run on an open twin to ``commands`` (the registry :data:`twin.cli.COMMANDS`
through which ``twin serve`` runs them for other processes). Modules may use the helpers of :mod:`twin.cli`
(``run``, ``print_report``, ``out``, ``err``); they are registered in name order when :mod:`twin.cli` loads.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import click

__all__ = ["register_all"]


def register_all(cli: click.Group, commands: dict[str, Any]) -> list[str]:
    """Import every module of this package and let it register its commands; returns the module names."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(cli, commands)
    return names
