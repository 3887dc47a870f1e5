"""Import one very large file and report time and peak memory.

    .venv/bin/python -m benchmarks.large_import --megabytes 200 [--format ris] [--into 100000]

The file is made of synthetic records (see `benchmarks.synthetic`), written
with refdeck's own exporters, into /tmp/refdeck-bench. The import runs as
`refdeck import` in a child process, whose peak resident memory is read from
the kernel (`ru_maxrss` of that child alone; the parent stays small, since a
child's peak counts its parent's memory when it was started). With `--into N` it imports into a copy of an
existing library of N other records, as a user with a library would.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from benchmarks.synthetic import make_records
from tui.export import EXPORTERS, export_text
from tui.export.csl_json import to_csl
from tui.models import Record

BENCH_DIR = Path("/tmp/refdeck-bench")
_CHUNK = 5_000


def build_file(megabytes: int, format: str) -> tuple[Path, int]:
    """A file of at least `megabytes` MB in `format`, reused when it already exists."""
    extension = ".jsonl" if format == "jsonl" else EXPORTERS[format].extension
    path = BENCH_DIR / f"large-{megabytes}mb{extension}"
    count_file = path.with_suffix(path.suffix + ".count")
    if path.exists() and count_file.exists():
        return path, int(count_file.read_text())
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    target = megabytes * 1_000_000
    written = count = 0
    seed = 1
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            records = make_records(_CHUNK, seed=seed)
            # Unique titles and DOIs across chunks, so nothing merges.
            records = [
                r.with_changes(title=f"{r.title} s{seed}", doi=f"10.5555/large.{seed}.{i}")
                for i, r in enumerate(records)
            ]
            text = _text(records, format)
            out.write(text)
            written += len(text.encode())
            count += len(records)
            seed += 1
    count_file.write_text(str(count))
    return path, count


def _text(records: list[Record], format: str) -> str:
    if format == "jsonl":  # CSL-JSON, a record per line
        return "".join(
            orjson.dumps(to_csl(record, f"r{i}")).decode() + "\n"
            for i, record in enumerate(records)
        )
    return export_text(records, format)


def _run_python(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--format", default="ris", choices=["ris", "bibtex", "csl-json", "jsonl"])
    parser.add_argument("--into", type=int, default=0, help="records already in the library")
    args = parser.parse_args()
    started = time.perf_counter()
    path, count = build_file(args.megabytes, args.format)
    print(
        f"file: {path} ({path.stat().st_size / 1e6:.0f} MB, {count:,} records), "
        f"made in {time.perf_counter() - started:.0f} s"
    )
    library = BENCH_DIR / f"import-{args.megabytes}mb.json"
    for leftover in BENCH_DIR.glob(f"{library.name}*"):
        if leftover.is_file():
            leftover.unlink()
        elif leftover.is_dir():
            shutil.rmtree(leftover)  # backups of an earlier run
    if args.into:
        # Built, and its list cache made (as after the browser has opened it once), in
        # children: a child's peak memory counts its parent's at the time it started.
        _run_python(
            f"from benchmarks.synthetic import build_library; from pathlib import Path; "
            f"build_library(Path('{BENCH_DIR}/library-{args.into}.json'), {args.into})"
        )
        shutil.copyfile(BENCH_DIR / f"library-{args.into}.json", library)
        _run_python(
            f"from tui.library import RecordStore; from pathlib import Path; "
            f"RecordStore.open(Path('{library}')).count()"
        )
        print(f"into a library of {args.into:,} records ({library.stat().st_size / 1e6:.0f} MB)")
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "tui", "import", "--db", str(library), str(path)],
            stdout=out,
            stderr=err,
            text=True,
        )
        # This child's own peak (`wait4`), not the largest of all children's so far.
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(
            child.args, os.waitstatus_to_exitcode(status), out.read(), err.read()
        )
    peak_mb = usage.ru_maxrss / 1024
    print(done.stdout.strip())
    if done.returncode not in (0, 1):
        print(done.stderr[-2000:])
    print(
        f"import: {seconds:.1f} s, peak RSS {peak_mb:.0f} MB, "
        f"library {library.stat().st_size / 1e6:.0f} MB"
    )


if __name__ == "__main__":
    main()
