"""Import one very large file and report time and peak memory.

    .venv/bin/python -m benchmarks.large_import --megabytes 200 [--format ris] [--into 100000]

The file is made of synthetic records (see `benchmarks.synthetic`), written
with refdeck's own exporters, into /tmp/refdeck-bench. The import runs as
`refdeck import` in a child process, whose peak resident memory is read from
the kernel (`ru_maxrss`). With `--into N` it imports into a copy of an
existing library of N other records, as a user with a library would.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson

from benchmarks.synthetic import build_library, make_records
from tui.export import EXPORTERS, export_text
from tui.export.csl_json import to_csl
from tui.models import Record
from tui.store import RecordStore

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
        base = build_library(BENCH_DIR / f"library-{args.into}.json", args.into)
        shutil.copyfile(base, library)
        # The list cache, as after the browser has opened the library once.
        RecordStore.open(library).rows()
        print(f"into a library of {args.into:,} records ({library.stat().st_size / 1e6:.0f} MB)")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tui", "import", "--db", str(library), str(path)],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(done.stdout.strip())
    if done.returncode not in (0, 1):
        print(done.stderr[-2000:])
    print(
        f"import: {seconds:.1f} s, peak RSS {peak_mb:.0f} MB, "
        f"library {library.stat().st_size / 1e6:.0f} MB"
    )


if __name__ == "__main__":
    main()
