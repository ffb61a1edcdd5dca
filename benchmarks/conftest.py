"""Benchmarks: seeded data, figures printed as rates and as ratios against a bare baseline of the same run.

A benchmark that sets ``benchmark.extra_info["rows"]`` is reported in rows/s; one that sets
``extra_info["baseline_of"] = GROUP`` is the bare reference of that group, and the others of the group are
reported as a ratio of its rate (the goal of each is in the test's docstring).
"""

from __future__ import annotations

import os
from typing import Any

import pytest


def _rates(config: pytest.Config) -> list[dict[str, Any]]:
    bs = getattr(config, "_benchmarksession", None)
    if bs is None:
        return []
    rows = []
    for bench in bs.benchmarks:
        if not bench.stats or "rows" not in bench.extra_info:
            continue
        mean = bench.stats.mean
        rows.append(
            {
                "name": bench.name,
                "group": bench.group,
                "rate": bench.extra_info["rows"] / mean,
                "mean_s": mean,
                "baseline": bool(bench.extra_info.get("baseline")),
                "cpu_s": bench.extra_info.get("cpu_s"),
            }
        )
    return rows


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    rows = _rates(config)
    bs = getattr(config, "_benchmarksession", None)
    pairs = [b for b in (bs.benchmarks if bs is not None else []) if b.extra_info.get("pairs")]
    if not rows and not pairs:
        return
    terminalreporter.section("throughput")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load is not None:
        terminalreporter.write_line(
            f"load average (1, 5, 15 min) at the end: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}"
        )
    cpu_baselines = {r["group"]: r["cpu_s"] for r in rows if r["baseline"] and r["cpu_s"]}
    baselines = {r["group"]: r["rate"] for r in rows if r["baseline"]}
    for r in rows:
        rate = f"{r['rate']:>14,.0f} rows/s  " if r["rate"] >= 10 else ""
        line = f"{r['name']:<60} {rate}(mean {r['mean_s']:.3f} s)"
        base = baselines.get(r["group"])
        if base and not r["baseline"]:
            line += f"  rate ratio to bare: {r['rate'] / base:.2f} (time ratio {base / r['rate']:.2f})"
        if r["cpu_s"]:
            line += f"  cpu {r['cpu_s']:.2f} s"
            cpu_base = cpu_baselines.get(r["group"])
            if cpu_base and not r["baseline"]:
                line += f" (cpu ratio {r['cpu_s'] / cpu_base:.2f})"
        terminalreporter.write_line(line)
    for bench in pairs:  # benchmarks that time a baseline and its subject one after the other, in pairs
        terminalreporter.write_line(f"{bench.name}: each pair run back to back (time ratio = subject / bare)")
        for p in bench.extra_info["pairs"]:
            terminalreporter.write_line(
                f"  bare {p['bare_s']:.2f} s, full {p['full_s']:.2f} s: time ratio {p['ratio']:.2f}, "
                f"cpu ratio {p['cpu_ratio']:.2f} (load {p['load']})"
            )
