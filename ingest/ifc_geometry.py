"""Triangulate the elements of an IFC file in a worker process, robust to geometry-kernel crashes.

The ``manifold`` kernel is about ten times faster than OpenCASCADE here with equal volumes, but it segfaults on
some real files (the Duplex model crashes it) and silently skips a few elements on others. A crash in the
twin's own process would take the server down with it, so the kernel always runs in a child process
(``python -m ingest.ifc_geometry``) that streams its results as Arrow IPC batches to a file:

1. ``manifold`` over the whole file, one thread (a second did not help on two cores);
2. whatever it did not return (crash or skip) again with ``opencascade``, restricted to those elements;
3. elements that still have no mesh are reported with their GlobalId and the reason.

Coordinates are the model's world coordinates in metres (``use-world-coords``); georeferencing is applied by
the caller.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

__all__ = ["GeometryResult", "mesh_measures", "triangulate"]

KERNELS = ("manifold", "opencascade")
_BATCH = 64
_SCHEMA = pa.schema(
    [
        ("step_id", pa.int64()),
        ("ifc_guid", pa.string()),
        ("vertices", pa.binary()),  # float32 xyz
        ("faces", pa.binary()),  # int32 triples
    ]
)


@dataclass
class GeometryResult:
    """Meshes by GlobalId (world coordinates, metres), which kernel made each, and what failed."""

    vertices: dict[str, np.ndarray] = field(default_factory=dict)  # (n, 3) float64
    faces: dict[str, np.ndarray] = field(default_factory=dict)  # (m, 3) int32
    kernel: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # GlobalId -> reason


def _worker(path: str, out: str, kernel: str, include_file: str | None) -> None:
    """Child process body: iterate the geometry and append batches to ``out`` as they come."""
    import ifcopenshell
    import ifcopenshell.geom

    model = ifcopenshell.open(path)
    settings = ifcopenshell.geom.settings()
    settings.set("use-world-coords", True)
    include = None
    if include_file:
        include = [model.by_id(int(x)) for x in Path(include_file).read_text().split()]
    iterator = ifcopenshell.geom.iterator(
        settings,
        model,
        1,
        geometry_library=kernel,  # type: ignore[arg-type]
        include=include,  # type: ignore[arg-type]
    )
    rows: dict[str, list[object]] = {name: [] for name in _SCHEMA.names}
    with pa.OSFile(out, "wb") as sink, pa.ipc.new_stream(sink, _SCHEMA) as writer:

        def flush() -> None:
            if rows["step_id"]:
                writer.write_batch(
                    pa.record_batch(
                        [pa.array(rows[n], _SCHEMA.field(n).type) for n in _SCHEMA.names], schema=_SCHEMA
                    )
                )
                sink.flush()
                for values in rows.values():
                    values.clear()

        if iterator.initialize():
            done = 0
            while True:
                shape = iterator.get()
                geometry = shape.geometry
                rows["step_id"].append(shape.id)
                rows["ifc_guid"].append(shape.guid)
                rows["vertices"].append(np.asarray(geometry.verts, dtype=np.float32).tobytes())
                rows["faces"].append(np.asarray(geometry.faces, dtype=np.int32).tobytes())
                done += 1
                if len(rows["step_id"]) >= _BATCH:
                    flush()
                    print(f"progress {done}", flush=True)
                if not iterator.next():
                    break
        flush()


def _run_kernel(
    path: Path, kernel: str, include: list[int] | None, workdir: Path, progress: Callable[[int], None] | None
) -> tuple[pa.Table, int]:
    out = workdir / f"{kernel}.arrows"
    include_file = None
    if include is not None:
        include_file = workdir / f"{kernel}.include"
        include_file.write_text(" ".join(map(str, include)))
    cmd = [sys.executable, "-m", "ingest.ifc_geometry", str(path), str(out), kernel]
    if include_file:
        cmd.append(str(include_file))
    env = dict(os.environ, PYTHONFAULTHANDLER="0")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if progress and line.startswith("progress "):
            progress(int(line.split()[1]))
    proc.wait()
    proc.stderr.close() if proc.stderr else None
    proc.stdout.close()
    batches = []
    if out.exists():
        try:
            with pa.OSFile(str(out), "rb") as source:
                reader = pa.ipc.open_stream(source)
                while True:
                    try:
                        batches.append(reader.read_next_batch())
                    except StopIteration:
                        break
        except (pa.ArrowInvalid, OSError):
            pass  # a stream cut by a crash: keep the complete batches read so far
    return pa.Table.from_batches(batches, schema=_SCHEMA), proc.returncode


def triangulate(
    path: str | os.PathLike[str],
    wanted: dict[int, str] | Callable[[], dict[int, str]],
    progress: Callable[[int], None] | None = None,
    kernels: tuple[str, ...] = KERNELS,
) -> GeometryResult:
    """Meshes of the elements ``wanted`` (STEP id -> GlobalId), trying each kernel in turn on what is missing.

    ``wanted`` may be a function: it is then called while the first kernel runs in its worker process (the
    caller parses the model meanwhile, so both cores work).
    """
    result = GeometryResult()
    with tempfile.TemporaryDirectory(prefix="twin-geom-") as tmp:
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(_run_kernel, Path(path), kernels[0], None, Path(tmp), progress)
            try:
                missing = dict(wanted() if callable(wanted) else wanted)
            except BaseException:
                first.result()  # let the worker finish before the folder goes
                raise
            first_run = first.result()
        for number, kernel in enumerate(kernels):
            if not missing:
                break
            if number == 0:
                table, code = first_run
            else:
                table, code = _run_kernel(Path(path), kernel, sorted(missing), Path(tmp), None)
            ids = table.column("step_id").to_pylist()
            verts = table.column("vertices").to_pylist()
            faces = table.column("faces").to_pylist()
            for step_id, v, f in zip(ids, verts, faces, strict=True):
                guid = missing.pop(step_id, None)
                if guid is None:
                    continue
                result.vertices[guid] = np.frombuffer(v, np.float32).reshape(-1, 3).astype(np.float64)
                result.faces[guid] = np.frombuffer(f, np.int32).reshape(-1, 3)
                result.kernel[guid] = kernel
            reason = f"the {kernel} kernel crashed (exit {code})" if code != 0 else f"no geometry from {kernel}"
            for guid in missing.values():
                result.failures[guid] = reason
    for guid in list(result.failures):
        if guid in result.vertices:
            del result.failures[guid]
    return result


def mesh_measures(vertices: np.ndarray, faces: np.ndarray) -> tuple[float, float]:
    """(volume m3, surface m2) of a triangle mesh: volume by the divergence theorem (closed meshes)."""
    if len(faces) == 0:
        return 0.0, 0.0
    a, b, c = vertices[faces[:, 0]], vertices[faces[:, 1]], vertices[faces[:, 2]]
    u, w = b - a, c - a
    cross = np.column_stack(
        [
            u[:, 1] * w[:, 2] - u[:, 2] * w[:, 1],
            u[:, 2] * w[:, 0] - u[:, 0] * w[:, 2],
            u[:, 0] * w[:, 1] - u[:, 1] * w[:, 0],
        ]
    )
    surface = 0.5 * float(np.sqrt((cross * cross).sum(axis=1)).sum())
    # Signed volume: sum of a . (b x c) / 6; b x c written out (np.cross is slow on many small arrays).
    bc = np.column_stack(
        [
            b[:, 1] * c[:, 2] - b[:, 2] * c[:, 1],
            b[:, 2] * c[:, 0] - b[:, 0] * c[:, 2],
            b[:, 0] * c[:, 1] - b[:, 1] * c[:, 0],
        ]
    )
    volume = abs(float((a * bc).sum()) / 6.0)
    return volume, surface


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
