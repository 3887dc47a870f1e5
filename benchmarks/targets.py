"""Every target of issue 10 ("Instant at any size"), measured in one run. Asserts nothing.

    .venv/bin/python -m benchmarks.targets [--small 1000] [--large 100000]
        [--workdir /tmp/refdeck-bench] [--quick] [--large-import]

Prints a Markdown table (figures, what each is compared with, the ratio, the
target) ready for the README, and writes every raw figure to
`WORKDIR/targets.json`. Run it from the repository's root.

1. The command line: `doi`, `search --format doi` (free words, a fielded query),
   `show`, `stats`, each as a child process timed by a small wrapper that reads
   its own child's peak memory from the kernel (`wait4`): median of several runs
   after a warm-up, on the small and the large library made the same way.
2. The browser on the large library, in a real terminal: an 80x24 tmux pane,
   watched through tmux control mode, whose `%output` notifications carry every
   byte the program writes, as it writes it. A key is sent through the same
   channel and timed until the first output that shows the expected change (the
   new count "N of 100,000 records", the opened record's DOI) and until the
   output has been quiet for 50 ms (settled). A bare Textual app
   (`benchmarks/bare_input.py`) is typed into the same way: the floor. Also the
   first screen, a word only abstracts hold typed at once, CPU time in the 30 s
   after the first screen, peak memory over a session (search, open records,
   copy a DOI, export one), and a `cp -r` copy of the library's folder opened
   against `python -c "import textual.app"`.
3. A mark at both sizes, through `RecordStore.set_marked`: the time until it
   is on disk.
4. Importing records that all share first author, year and first title word,
   5,000, 10,000 and 20,000 of them: id assignment must stay linear.
5. With `--large-import`: 120,000 RIS records (205 MB) into an empty library.

A section that cannot run (no tmux) says so in the table and the others go on.
Libraries are built once in the workdir (`benchmarks.synthetic`) and reused.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import select
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
"""The repository (children run from here, so `benchmarks` and `tests` import)."""
QUIET_SECONDS = 0.05
"""Output silent this long after the expected change: the screen has settled."""
TYPING_GAP = 0.25
"""At least this long between the keys of a typed query (a fast typist's pace)."""
SIZE = (80, 24)
"""The terminal the browser is measured in."""


# ---------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class Settings:
    """What to measure, and how many times."""

    small: int
    large: int
    workdir: Path
    quick: bool = False
    runs: int = 5
    """Timed runs of each command (after one warm-up)."""
    queries: tuple[str, ...] = ("leukemia relapse", "a:nunez sepsis")
    """Typed a character at a time in the browser, and in the bare Input."""
    opens: int = 6
    """Records opened with Enter, and `n` pressed on each."""
    first_screen_runs: int = 3
    copy_runs: int = 3
    cpu_window: float = 30.0
    """Seconds after the first screen in which the browser's CPU time is counted."""
    mark_runs: int = 5
    id_sizes: tuple[int, ...] = (5_000, 10_000, 20_000)
    large_import: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Settings:
        """The settings the command line asks for (`--quick`: small sizes, fewer runs)."""
        workdir = Path(args.workdir)
        if args.quick:
            return cls(
                small=args.small or 200,
                large=args.large or 2_000,
                workdir=workdir,
                quick=True,
                runs=2,
                queries=("leukemia",),
                opens=2,
                first_screen_runs=1,
                copy_runs=1,
                cpu_window=5.0,
                mark_runs=2,
                id_sizes=(500, 1_000, 2_000),
                large_import=args.large_import,
            )
        return cls(
            small=args.small or 1_000,
            large=args.large or 100_000,
            workdir=workdir,
            large_import=args.large_import,
        )


# ---------------------------------------------------------------------------
# The report


@dataclass
class Row:
    """One line of the table."""

    what: str
    figure: str
    against: str = ""
    """What the figure is compared with."""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    """None: no target, or nothing to judge."""


def format_ratio(ratio: float | None) -> str:
    """`2.35x`, `14.2x`; empty when there is no ratio."""
    if ratio is None:
        return ""
    return f"{ratio:.1f}x" if ratio >= 10 else f"{ratio:.2f}x"


def markdown_table(rows: Sequence[Row], figure_heading: str) -> str:
    """The rows as a Markdown table (pipes in cells escaped)."""
    headings = ["What", figure_heading, "Compared with", "Ratio", "Target", "Met"]
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    for row in rows:
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        cells = [row.what, row.figure, row.against, format_ratio(row.ratio), row.target, met]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


class Report:
    """The rows of the table and the raw figures, gathered section by section."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.raw: dict[str, Any] = {}

    def add(self, row: Row) -> None:
        """Add a row, and print it at once (a long run shows its progress)."""
        self.rows.append(row)
        ratio = f" ({format_ratio(row.ratio)})" if row.ratio is not None else ""
        print(f"  {row.what}: {row.figure}{ratio}", flush=True)

    @contextlib.contextmanager
    def section(self, name: str) -> Iterator[dict[str, Any]]:
        """A section's raw figures; a failure becomes a row, and the next section runs."""
        print(f"\n{name}", flush=True)
        raw: dict[str, Any] = {}
        self.raw[name] = raw
        started = time.perf_counter()
        try:
            yield raw
        except Exception as error:  # noqa: BLE001 - one broken section must not lose the others
            raw["error"] = traceback.format_exc()
            self.add(Row(name, f"failed: {type(error).__name__}: {error}"))
        raw["section_seconds"] = round(time.perf_counter() - started, 1)

    def skip(self, name: str, reason: str) -> None:
        """A section that cannot run here."""
        self.raw[name] = {"skipped": reason}
        self.add(Row(name, f"skipped: {reason}"))


# ---------------------------------------------------------------------------
# Small statistics


def median_p95(values: Sequence[float]) -> tuple[float, float]:
    """The median and the 95th percentile."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(int(len(ordered) * 0.95), len(ordered) - 1)]


def ratio(value: float | None, base: float | None) -> float | None:
    """`value / base`, or None when either is missing or the base is zero."""
    if value is None or not base:
        return None
    return value / base


# ---------------------------------------------------------------------------
# Child processes: wall time and peak memory of exactly one child


_WRAPPER = r"""
import json, os, sys, time
out, *command = sys.argv[1:]
flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
stdout, stderr = os.open(out + ".out", flags, 0o644), os.open(out + ".err", flags, 0o644)
actions = [(os.POSIX_SPAWN_DUP2, stdout, 1), (os.POSIX_SPAWN_DUP2, stderr, 2)]
start = time.perf_counter()
pid = os.posix_spawnp(command[0], command, os.environ, file_actions=actions)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(out, "w") as file:
    json.dump({"seconds": seconds, "maxrss_kb": usage.ru_maxrss,
               "cpu": usage.ru_utime + usage.ru_stime,
               "exit": os.waitstatus_to_exitcode(status)}, file)
"""
"""Runs one command and reports its time and `ru_maxrss`. A small process of its own: a
child's peak memory counts its parent's at the moment it was started, so the parent
must stay small, and this benchmark's own process does not."""


@dataclass(frozen=True)
class ChildRun:
    """One run of a command."""

    seconds: float
    peak_mb: float
    cpu: float
    exit: int
    stdout: str
    stderr: str


def run_child(command: Sequence[str], workdir: Path, env: dict[str, str]) -> ChildRun:
    """Run `command` through the wrapper: its wall time, peak RSS, CPU time and output."""
    out = workdir / "child.json"
    subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(out), *command], env=env, cwd=ROOT, check=True
    )
    figures = json.loads(out.read_text())
    return ChildRun(
        figures["seconds"],
        figures["maxrss_kb"] / 1024,
        figures["cpu"],
        figures["exit"],
        Path(f"{out}.out").read_text(errors="replace"),
        Path(f"{out}.err").read_text(errors="replace"),
    )


def child_env(workdir: Path) -> dict[str, str]:
    """The environment of every program measured: a throwaway config, data and cache home,
    so that the user's config (a keymap, a theme) never changes what is measured."""
    home = workdir / "home"
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "CACHE"):
        folder = home / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name}_HOME"] = str(folder)
    env.pop("REFDECK_DB", None)
    return env


def refdeck(*args: str) -> list[str]:
    """The command line of `refdeck ARGS` with this Python."""
    return [sys.executable, "-m", "tui", *args]


def python_code(code: str) -> list[str]:
    """The command line of a Python snippet run in a child (from the repository's root)."""
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); {code}"]


# ---------------------------------------------------------------------------
# The libraries


@dataclass(frozen=True)
class Library:
    """A synthetic library in a folder of its own (so that it can be copied whole)."""

    count: int
    path: Path
    built_seconds: float | None
    """Seconds it took to build now; None when it was already there."""

    @property
    def folder(self) -> Path:
        """The folder that holds the library, its index and its lock."""
        return self.path.parent


def floor_seconds(runs: int = 5) -> float:
    """Median time to start Python and import Textual: no browser can start faster."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def library(settings: Settings, count: int) -> Library:
    """The synthetic library of `count` records in the workdir, built in a child if missing.

    A library an earlier run left in the workdir is used as it is.
    """
    path = settings.workdir / f"library-{count}" / "library.json"
    if path.exists():
        return Library(count, path, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    flat = settings.workdir / f"library-{count}.json"
    if flat.is_file():
        shutil.copyfile(flat, path)
    else:
        code = (
            "from pathlib import Path; from benchmarks.synthetic import build_library; "
            f"build_library(Path({str(path)!r}), {count})"
        )
        subprocess.run(python_code(code), cwd=ROOT, check=True)
    return Library(count, path, time.perf_counter() - start)


# ---------------------------------------------------------------------------
# 0. The index, rebuilt from the file


def index_section(report: Report, settings: Settings, small: Library, large: Library) -> None:
    """Rebuild both indexes from their files (streaming), in children: time and memory."""
    env = child_env(settings.workdir)
    with report.section("Index") as raw:
        runs = {}
        for lib in (small, large):
            code = (
                "from pathlib import Path; from tui.library import RecordStore; "
                f"RecordStore.open(Path({str(lib.path)!r})).rebuild_index(force=True)"
            )
            runs[lib.count] = run_child(python_code(code), settings.workdir, env)
            raw[str(lib.count)] = asdict(runs[lib.count]) | {"built_seconds": lib.built_seconds}
        big, little = runs[large.count], runs[small.count]
        size_mb = large.path.stat().st_size / 1e6
        report.add(
            Row(
                f"Index rebuilt from the library file ({size_mb:.0f} MB), streaming",
                f"{big.seconds:.1f} s, {big.peak_mb:.0f} MB",
                f"{little.seconds:.2f} s, {little.peak_mb:.0f} MB at {small.count:,}",
                ratio(big.seconds, little.seconds),
                "≤250 MB",
                big.peak_mb <= 250,
            )
        )


# ---------------------------------------------------------------------------
# 1. The command line


def sample_queries(small: Library) -> dict[str, str]:
    """Words, an author and a DOI taken from a record of the small library.

    The first records of every synthetic library are the same records (one seed),
    so what the small library holds, the large one holds too.
    """
    from tui.library import RecordStore

    with RecordStore.open(small.path).view() as view:
        seqs = view.search("")
        record = view.record(seqs[len(seqs) // 2])
        assert record is not None and record.doi and record.year and record.authors
        assert record.title and record.authors[0].family
        # The record's two rarest title words: what a person looking for this paper
        # types (its common words would list a fifth of the library).
        words = sorted(
            {w for w in record.title.lower().split() if w.isalpha() and len(w) > 2},
            key=lambda w: (len(view.search(w, "year")), -len(w), w),
        )
    return {
        "free": " ".join(words[:2]),
        "fielded": f"a:{record.authors[0].family.lower()} year:{record.year}",
        "doi": record.doi,
    }


def cli_section(report: Report, settings: Settings, small: Library, large: Library) -> None:
    """Each command on both libraries: median time, peak RSS, large/small."""
    env = child_env(settings.workdir)
    with report.section("Command line") as raw:
        sample = sample_queries(small)
        raw["sample"] = sample
        commands = [
            ("doi leukemia relapse", ["doi", "leukemia", "relapse"]),
            ("search --format doi leukemia relapse", ["search", "--format", "doi", "leukemia", "relapse"]),
            (f"search --format doi {sample['free']}", ["search", "--format", "doi", *sample["free"].split()]),
            (f"search --format doi '{sample['fielded']}'", ["search", "--format", "doi", *sample["fielded"].split()]),
            (f"show {sample['doi']}", ["show", sample["doi"]]),
            ("stats", ["stats"]),
        ]  # fmt: skip
        for label, args in commands:
            figures: dict[int, list[ChildRun]] = {}
            for lib in (small, large):
                command = refdeck(*args, "--db", str(lib.path))
                run_child(command, settings.workdir, env)  # warm-up: the page cache, .pyc files
                figures[lib.count] = [
                    run_child(command, settings.workdir, env) for _ in range(settings.runs)
                ]
            big, little = figures[large.count], figures[small.count]
            seconds = statistics.median(r.seconds for r in big)
            base = statistics.median(r.seconds for r in little)
            peak = max(r.peak_mb for r in big)
            lines = len(big[-1].stdout.splitlines())
            raw[label] = {
                "large": [asdict(r) | {"stdout": r.stdout[:200]} for r in big],
                "small": [asdict(r) | {"stdout": r.stdout[:200]} for r in little],
                "lines": {"large": lines, "small": len(little[-1].stdout.splitlines())},
            }
            failed = [r.exit for r in big + little if r.exit not in (0, 1)]
            what = f"`refdeck {label}`"
            if args[0] in ("search", "doi"):
                what += f" ({lines:,} / {raw[label]['lines']['small']:,} lines printed)"
            if failed:
                what += f" (exit {failed[0]}: {big[-1].stderr.strip()[-200:]})"
            r = ratio(seconds, base)
            report.add(
                Row(
                    what,
                    f"{seconds:.3f} s, {peak:.0f} MB",
                    f"{base:.3f} s, {max(x.peak_mb for x in little):.0f} MB at {small.count:,}",
                    r,
                    "≤3x, ≤250 MB",
                    r is not None and r <= 3 and peak <= 250 and not failed,
                )
            )


# ---------------------------------------------------------------------------
# 2. The browser, through tmux control mode


_OCTAL = re.compile(rb"\\([0-7]{3})")
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: cursor moves, colours
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: titles, clipboard
    r"|\x1bP[^\x1b]*\x1b\\"  # DCS
    r"|\x1b[ -/]*[0-~]"  # the other escapes (keypad modes, character sets)
    r"|[\x00-\x08\x0b-\x1f\x7f]"  # other controls (keeps tab and newline)
)


def parse_control_line(line: bytes) -> bytes | None:
    """The bytes a `%output %PANE DATA` notification carries; None for any other line.

    tmux writes every byte below 32, and the backslash, as a backslash and three
    octal digits; the rest (UTF-8 included) as it is.
    """
    if not line.startswith(b"%output "):
        return None
    _, _, rest = line.partition(b" ")
    _, _, data = rest.partition(b" ")
    return _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), data)


def visible_text(data: bytes) -> str:
    """What a stream of terminal output writes as text: escape sequences taken out."""
    return _ESCAPES.sub("", data.decode("utf-8", errors="replace"))


def count_marker(count: int, total: int) -> re.Pattern[str]:
    """The list's status line for `count` results: "1,265 of 100,000 records"."""
    return re.compile(rf"(?<![\d,]){count:,} of {total:,} records")


class Measurement:
    """The output that follows one key: when it began, when it showed the expected change
    (`marker`), and when it went quiet (settled). Fed with what tmux sends, as it arrives.

    Without a marker, the first output counts as the change.
    """

    def __init__(self, start: float, marker: re.Pattern[str] | None, quiet: float) -> None:
        self.start = start
        self.marker = marker
        self.quiet = quiet
        self.first: float | None = None
        self.hit: float | None = None
        self.last: float | None = None
        self.data = bytearray()
        self.timed_out = False

    def feed(self, when: float, data: bytes) -> None:
        """Output arrived at `when`."""
        if self.first is None:
            self.first = when
        self.last = when
        self.data += data
        if self.hit is None and (self.marker is None or self.marker.search(self.text)):
            self.hit = when

    @property
    def text(self) -> str:
        """Everything written since the key, as text."""
        return visible_text(bytes(self.data))

    def wait(self, now: float, deadline: float) -> float:
        """How long to wait for more output before looking again."""
        if self.hit is None or self.last is None:
            return max(deadline - now, 0.0)
        return max(self.last + self.quiet - now, 0.0)

    def settled(self, now: float) -> bool:
        """The change has been shown and nothing more was written for `quiet` seconds."""
        return self.hit is not None and self.last is not None and now - self.last >= self.quiet

    def timing(self) -> KeyTiming:
        """The figures, in milliseconds from the key."""

        def ms(moment: float | None) -> float | None:
            return None if moment is None else round((moment - self.start) * 1000, 2)

        settled = ms(self.last) if self.hit is not None and not self.timed_out else None
        return KeyTiming(ms(self.first), ms(self.hit), settled, self.timed_out)


@dataclass(frozen=True)
class KeyTiming:
    """Milliseconds from a key to the first output, to the expected change, to settled."""

    first: float | None
    changed: float | None
    settled: float | None
    timed_out: bool = False


class ControlClient:
    """A tmux control-mode client of one session: sends keys, reads `%output` as it comes."""

    def __init__(self, socket: Path, session: str) -> None:
        self.session = session
        self._process = subprocess.Popen(
            ["tmux", "-S", str(socket), "-C", "attach-session", "-t", session],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._stdin = self._process.stdin
        self._fd = self._process.stdout.fileno()
        os.set_blocking(self._fd, False)
        self._partial = b""

    def _read(self, timeout: float) -> list[tuple[float, bytes]]:
        """Output notifications that arrive within `timeout`, each with its arrival time."""
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return []
        when = time.perf_counter()
        chunk = b""
        with contextlib.suppress(BlockingIOError):
            while part := os.read(self._fd, 1 << 20):
                chunk += part
        if not chunk and self._process.poll() is not None:
            raise RuntimeError("the tmux control client ended")
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        return [(when, data) for line in lines if (data := parse_control_line(line)) is not None]

    def drain(self, seconds: float) -> bytes:
        """Read (and return) whatever is written during `seconds`."""
        deadline = time.perf_counter() + seconds
        data = b""
        while (left := deadline - time.perf_counter()) > 0:
            data += b"".join(d for _, d in self._read(left))
        return data

    def send(self, keys: Sequence[str], literal: bool = False) -> float:
        """Send keys (tmux names, or text with `literal`); returns when they were sent."""
        for key in keys:
            if "'" in key or "\n" in key:
                raise ValueError(f"cannot send {key!r} through tmux control mode")
        flag = " -l" if literal else ""
        command = f"send-keys -t {self.session}{flag} " + " ".join(f"'{k}'" for k in keys)
        start = time.perf_counter()
        self._stdin.write(command.encode() + b"\n")
        self._stdin.flush()
        return start

    def press(
        self,
        keys: Sequence[str],
        marker: re.Pattern[str] | None,
        *,
        literal: bool = False,
        timeout: float = 10.0,
    ) -> Measurement:
        """Send keys and follow the output until it shows `marker` and settles."""
        return self.follow(self.send(keys, literal), marker, timeout)

    def follow(self, start: float, marker: re.Pattern[str] | None, timeout: float) -> Measurement:
        """Follow the output from `start` until it shows `marker` and settles (or timeout)."""
        measurement = Measurement(start, marker, QUIET_SECONDS)
        deadline = start + timeout
        while True:
            now = time.perf_counter()
            if measurement.settled(now):
                return measurement
            if now >= deadline:
                measurement.timed_out = True
                return measurement
            for when, data in self._read(measurement.wait(now, deadline)):
                measurement.feed(when, data)

    def close(self) -> None:
        """Detach (the session goes on until its server is killed)."""
        with contextlib.suppress(OSError):
            self._stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class Pane:
    """A program in an 80x24 tmux pane, started on cue (so its start can be timed) and
    watched through a control client. A context manager: the tmux server ends with it."""

    def __init__(self, name: str, command: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        from tests.terminal.tmux import TmuxTerminal

        self.socket = Path(f"/tmp/refdeck-targets-{os.getpid()}-{name}")
        self.terminal = TmuxTerminal(self.socket, SIZE)
        keep = {k: v for k, v in env.items() if k.startswith("XDG_")}
        # The shell waits for Enter before it becomes the program: the start is then a key
        # sent through the control client, timed like every other key.
        self.terminal.start(["sh", "-c", 'read _ && exec "$@"', "sh", *command], env=keep, cwd=cwd)
        self.client = ControlClient(self.socket, self.terminal.name)
        self.client.drain(0.2)

    def launch(self, ready: re.Pattern[str], timeout: float = 120.0) -> Measurement:
        """Start the program; follow its output until `ready` shows and it settles."""
        return self.client.press(["Enter"], ready, timeout=timeout)

    @property
    def pid(self) -> int:
        """The program's process id (the shell became the program)."""
        done = self.terminal._tmux("display-message", "-p", "-t", self.terminal.name, "#{pane_pid}")
        return int(done.stdout.strip())

    def __enter__(self) -> Pane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.terminal.stop()
        self.socket.unlink(missing_ok=True)


def cpu_seconds_from_stat(stat: str, ticks: int) -> float:
    """User plus system CPU seconds from the text of `/proc/PID/stat`."""
    fields = stat.rpartition(")")[2].split()  # the name, in parentheses, may hold spaces
    return (int(fields[11]) + int(fields[12])) / ticks


def peak_mb_from_status(status: str) -> float | None:
    """Peak resident memory (`VmHWM`) in MB from the text of `/proc/PID/status`."""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def cpu_seconds(pid: int) -> float:
    """CPU seconds a process has used (all its threads)."""
    return cpu_seconds_from_stat(Path(f"/proc/{pid}/stat").read_text(), os.sysconf("SC_CLK_TCK"))


def peak_mb(pid: int) -> float | None:
    """A process's peak resident memory so far, in MB."""
    try:
        return peak_mb_from_status(Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return None


@dataclass
class Keystrokes:
    """Timings of a series of keys, by what they were."""

    timings: list[KeyTiming] = field(default_factory=list)

    def changed(self) -> list[float]:
        """Milliseconds to the expected change, of the keys that showed it."""
        return [t.changed for t in self.timings if t.changed is not None]

    def settled(self) -> list[float]:
        """Milliseconds to settled, of the keys that settled."""
        return [t.settled for t in self.timings if t.settled is not None]

    def add(self, measurement: Measurement) -> None:
        """Add the timing of one key."""
        self.timings.append(measurement.timing())

    def missed(self) -> int:
        """Keys whose expected change never showed."""
        return sum(t.changed is None for t in self.timings)


def type_queries(
    client: ControlClient,
    queries: Sequence[str],
    marker_for: Callable[[str], re.Pattern[str]],
    cleared: re.Pattern[str],
) -> Keystrokes:
    """Type each query a character at a time (timing each), then clear it with ctrl+u."""
    keys = Keystrokes()
    for query in queries:
        for n in range(1, len(query) + 1):
            client.drain(TYPING_GAP)
            measurement = client.press([query[n - 1]], marker_for(query[:n]), literal=True)
            keys.timings.append(measurement.timing())
        client.drain(TYPING_GAP)
        client.press(["C-u"], cleared)
    return keys


@dataclass(frozen=True)
class Expected:
    """What the browser should show, read from the large library's index beforehand."""

    total: int
    counts: dict[str, int]
    """Results of each prefix of the typed queries (and of the final query)."""
    final_query: str
    dois: list[str]
    """The DOIs of the first results of the final query, in the list's order."""
    abstract_word: str | None
    abstract_count: int


def abstract_only_word(view: Any, records: int = 400) -> tuple[str | None, int]:
    """A word some abstract holds that no title, author, journal or keyword starts with.

    Rare words first (at most 50 matches), from the abstracts of the first records;
    the fielded queries are prefix queries, as the typed word will be.
    """
    tried: set[str] = set()
    for seq in view.search("", "year")[:records]:
        record = view.record(seq)
        if record is None or not record.abstract:
            continue
        for word in sorted(set(record.abstract.lower().split()), key=len, reverse=True):
            if word in tried or not word.isalpha() or len(word) < 6:
                continue
            tried.add(word)
            matches = len(view.search(word, "year"))
            if not 0 < matches <= 50:
                continue
            if all(not view.search(f"{f}:{word}", "year") for f in ("t", "a", "j", "kw")):
                return word, matches
    return None, 0


def expected_screens(large: Library, settings: Settings) -> Expected:
    """Counts and DOIs the browser will show, from the library's index (in this process)."""
    from tui.library import RecordStore

    final = "leukemia"
    with RecordStore.open(large.path).view() as view:
        prefixes = {q[:n] for q in (*settings.queries, final) for n in range(len(q) + 1)}
        counts = {p: len(view.search(p)) for p in prefixes}
        seqs = view.search(final)[: settings.opens + 3]
        dois = [row.doi for row in view.rows(seqs)]
        word, count = abstract_only_word(view)
        return Expected(view.count, counts, final, dois, word, count)


def doi_marker(doi: str) -> re.Pattern[str]:
    """The detail screen showing this record."""
    return re.compile(rf"DOI\s+{re.escape(doi)}(?![\d])")


def keys_row(what: str, keys: Keystrokes, bare: Keystrokes, target: float, use: str) -> Row:
    """A row comparing keys with the bare Input's keystrokes (medians): to the expected change
    (`use="changed"`: the first output showing it) or to settled (`"settled"`)."""
    mine = keys.changed() if use == "changed" else keys.settled()
    floor = bare.changed() if use == "changed" else bare.settled()
    if not mine or not floor:
        return Row(what, f"no figures ({keys.missed()} keys never showed the change)")
    median, p95 = median_p95(mine)
    base, base_p95 = median_p95(floor)
    r = ratio(median, base)
    missed = f", {keys.missed()} missed" if keys.missed() else ""
    return Row(
        what,
        f"{median:.0f} ms median, p95 {p95:.0f} ms ({len(mine)} keys{missed})",
        f"bare Input {'label updated' if use == 'changed' else 'settled'} {base:.0f} ms, "
        f"p95 {base_p95:.0f} ms",
        r,
        f"≤{target:g}x",
        r is not None and r <= target,
    )


def browser_section(report: Report, settings: Settings, large: Library, floor: float) -> None:
    """Sections 2a to 2e, on the large library."""
    with report.section("Browser: what it will show") as raw:
        expected = expected_screens(large, settings)
        raw.update(asdict(expected))
        raw["counts"] = dict(sorted(expected.counts.items()))
    browser = Browser(report, settings, large, expected, floor)
    bare = browser.bare_keystrokes()
    browser.first_screen()
    browser.abstract_word()
    browser.session(bare)
    browser.copied_folder()


class Browser:
    """The browser's measurements, each a section of the report, on one large library."""

    def __init__(
        self, report: Report, settings: Settings, large: Library, expected: Expected, floor: float
    ) -> None:
        self.report = report
        self.settings = settings
        self.large = large
        self.expected = expected
        self.floor = floor
        """Seconds of `python -c "import textual.app"`, measured in this run."""
        self.env = child_env(settings.workdir)
        self.ready = re.compile(rf"of {expected.total:,} records")
        """The first screen with rows: its status line."""

    def _start(self, pane: Pane) -> Measurement:
        """Start refdeck in `pane`; the output up to its first screen with rows."""
        shown = pane.launch(self.ready)
        if shown.hit is None:
            raise RuntimeError(f"no first screen; the pane shows:\n{pane.terminal.screen()}")
        return shown

    def _floor_row(self, what: str, seconds: float, target: float, met: bool) -> Row:
        return Row(
            what,
            f"{seconds:.2f} s",
            f'`python -c "import textual.app"` {self.floor:.2f} s',
            ratio(seconds, self.floor),
            f"≤{target:g}x",
            met and (ratio(seconds, self.floor) or target + 1) <= target,
        )

    def bare_keystrokes(self) -> Keystrokes:
        """2a's floor: the same queries typed into a bare Textual Input."""
        from benchmarks.bare_input import READY, mirror

        bare = Keystrokes()
        with self.report.section("Browser: keystrokes in a bare Textual Input") as raw:
            command = [sys.executable, "-m", "benchmarks.bare_input"]
            with Pane("bare", command, self.env, ROOT) as pane:
                pane.launch(re.compile(re.escape(READY)), timeout=60)
                bare = type_queries(
                    pane.client,
                    self.settings.queries,
                    lambda prefix: re.compile(re.escape(mirror(prefix))),
                    re.compile(re.escape(mirror(""))),
                )
            raw["keys"] = [asdict(t) for t in bare.timings]
            shown, shown_p95 = median_p95(bare.changed() or [0.0])
            settled, settled_p95 = median_p95(bare.settled() or [0.0])
            self.report.add(
                Row(
                    "Bare Textual Input, the floor: keystroke to label updated / to settled",
                    f"{shown:.0f} / {settled:.0f} ms median, p95 {shown_p95:.0f} / "
                    f"{settled_p95:.0f} ms ({len(bare.changed())} keys)",
                )
            )
        return bare

    def first_screen(self) -> None:
        """The first screen of the library as it is, and 2d's CPU time in the 30 s after it."""
        settings = self.settings
        with self.report.section("Browser: first screen and CPU after it") as raw:
            firsts: list[float] = []
            command = refdeck("--db", str(self.large.path))
            for run in range(settings.first_screen_runs):
                with Pane(f"first{run}", command, self.env, ROOT) as pane:
                    shown = self._start(pane)
                    firsts.append((shown.timing().changed or 0) / 1000)
                    if run < settings.first_screen_runs - 1:
                        continue
                    pid = pane.pid
                    before = cpu_seconds(pid)
                    pane.client.drain(settings.cpu_window)
                    used = cpu_seconds(pid) - before
                    raw.update(
                        cpu_before_first_screen=before,
                        cpu_after=used,
                        peak_mb_after=peak_mb(pid),
                        indexing_shown="Indexing" in shown.text,
                    )
            first = statistics.median(firsts)
            raw.update(first_screens=firsts, floor=self.floor)
            self.report.add(
                self._floor_row(
                    f"First screen with rows, {SIZE[0]}x{SIZE[1]} tmux (README before: 0.64 s, "
                    "1.5x the floor)",
                    first,
                    1.5,
                    True,
                )
            )
            self.report.add(
                Row(
                    f"CPU in the {settings.cpu_window:.0f} s after the first screen, idle",
                    f"{used:.2f} s (before it: {before:.2f} s)",
                    target="≤6 s",
                    met=used <= 6,
                )
            )

    def abstract_word(self) -> None:
        """2c: a word only abstracts hold, typed as soon as the first screen shows."""
        expected, total = self.expected, self.expected.total
        with self.report.section("Browser: a word only abstracts hold, typed at once") as raw:
            word = expected.abstract_word
            if word is None:
                raise RuntimeError("no word found only in abstracts among the first records")
            with Pane("abstract", refdeck("--db", str(self.large.path)), self.env, ROOT) as pane:
                self._start(pane)
                found = pane.client.press(
                    ["/" + word],
                    count_marker(expected.abstract_count, total),
                    literal=True,
                    timeout=60,
                )
                timing = found.timing()
                counts = re.findall(r"([\d,]+) of [\d,]+ records", pane.terminal.screen())
            raw.update(word=word, expected=expected.abstract_count, timing=asdict(timing))
            raw["screen_count"] = counts[-1] if counts else None
            self.report.add(
                Row(
                    f"`{word}` (in {expected.abstract_count} abstracts, no other field) typed "
                    "right after the first screen",
                    f"{expected.abstract_count} of {total:,} shown after {timing.changed:.0f} ms"
                    if timing.changed is not None
                    else f"not shown in 60 s (the screen says {raw['screen_count']})",
                    target="matches at once",
                    met=timing.changed is not None,
                )
            )

    def session(self, bare: Keystrokes) -> None:
        """2a, 2b and 2d's memory: type queries, open records and walk them with `n`, copy
        a DOI, export a record; peak RSS at the end."""
        settings, expected, total = self.settings, self.expected, self.expected.total
        with self.report.section("Browser: keystrokes, opening records, a session") as raw:
            export_dir = settings.workdir / "exports"
            shutil.rmtree(export_dir, ignore_errors=True)
            export_dir.mkdir(parents=True)
            final = expected.final_query
            listed = count_marker(expected.counts[final], total)
            opened, nexts = Keystrokes(), Keystrokes()
            copied: KeyTiming | None = None
            command = refdeck("--db", str(self.large.path))
            with Pane("session", command, self.env, export_dir) as pane:
                client = pane.client
                self._start(pane)
                client.press(["/"], None)
                keys = type_queries(
                    client,
                    settings.queries,
                    lambda prefix: count_marker(expected.counts[prefix], total),
                    count_marker(total, total),
                )
                client.drain(TYPING_GAP)
                client.press([final], listed, literal=True)
                client.drain(TYPING_GAP)
                client.press(["Escape"], None)
                for k in range(settings.opens):
                    client.drain(TYPING_GAP)
                    opened.add(client.press(["Enter"], doi_marker(expected.dois[k])))
                    client.drain(TYPING_GAP)
                    nexts.add(client.press(["n"], doi_marker(expected.dois[k + 1])))
                    if k == 0:
                        client.drain(TYPING_GAP)
                        copied = client.press(["y"], re.compile("Copied")).timing()
                        raw["clipboard"] = pane.terminal.clipboard()
                    client.drain(TYPING_GAP)
                    client.press(["Escape"], listed)
                exported = export_one(client, export_dir, expected.dois[settings.opens])
                session_peak = peak_mb(pane.pid)
                raw.update(cpu_session=cpu_seconds(pane.pid), peak_mb=session_peak)
            raw.update(
                keys=[asdict(t) for t in keys.timings],
                opened=[asdict(t) for t in opened.timings],
                nexts=[asdict(t) for t in nexts.timings],
                copied=asdict(copied) if copied else None,
                exported=exported,
            )
            for what, series, target in (
                ("Keystroke to the list's new count", keys, 1.5),
                ("Enter to the record shown", opened, 4),
                ("`n` to the next record shown", nexts, 4),
            ):
                self.report.add(keys_row(what, series, bare, target, "changed"))
                self.report.add(
                    keys_row(what.split(" to ")[0] + " to settled", series, bare, target, "settled")
                )
            copy = (
                f"{copied.changed:.0f} ms to the toast" if copied and copied.changed else "no toast"
            )
            self.report.add(
                Row(
                    f"Session: {len(keys.timings)} keys typed, {2 * settings.opens} records shown, "
                    f"a DOI copied ({copy}), one exported ({exported})",
                    f"peak RSS {session_peak:.0f} MB" if session_peak else "peak RSS unknown",
                    target="≤400 MB",
                    met=session_peak is not None and session_peak <= 400,
                )
            )

    def copied_folder(self) -> None:
        """2e: a `cp -r` copy of the library's folder (new inodes and mtimes) opened."""
        large = self.large
        with self.report.section("Browser: a copied library folder") as raw:
            copy_folder = self.settings.workdir / f"copy-{large.count}"
            times: list[float] = []
            peaks: list[float] = []
            rebuilt = []
            for run in range(self.settings.copy_runs):
                shutil.rmtree(copy_folder, ignore_errors=True)
                subprocess.run(["cp", "-r", str(large.folder), str(copy_folder)], check=True)
                command = refdeck("--db", str(copy_folder / large.path.name))
                with Pane(f"copy{run}", command, self.env, ROOT) as pane:
                    shown = self._start(pane)
                    times.append((shown.timing().changed or 0) / 1000)
                    later = pane.client.drain(3.0)  # the checksum is compared after it
                    peaks.append(peak_mb(pane.pid) or 0)
                    rebuilt.append("Indexing" in shown.text + visible_text(later))
            shutil.rmtree(copy_folder, ignore_errors=True)
            raw.update(first_screens=times, peaks=peaks, rebuilt=rebuilt, floor=self.floor)
            row = self._floor_row(
                "A `cp -r` copy of the library folder: first screen with rows"
                + (" (the index was rebuilt)" if any(rebuilt) else " (no rebuild)"),
                statistics.median(times),
                2.5,
                not any(rebuilt),
            )
            row.figure += f", peak RSS {max(peaks):.0f} MB 3 s later"
            self.report.add(row)


def export_one(client: ControlClient, folder: Path, doi: str) -> str:
    """Open a record, press `e`, accept the dialog's choices (this record, BibTeX, a file
    in the folder refdeck was started in): seconds until the file holds the record."""
    client.drain(TYPING_GAP)
    client.press(["Enter"], doi_marker(doi))
    client.drain(TYPING_GAP)
    dialog = client.press(["e"], re.compile("Enter in the file name"))
    if dialog.hit is None:
        return "no export dialog"
    for _ in range(2):  # format, (style: disabled for BibTeX), records, then the file name
        client.drain(0.1)
        client.press(["Tab"], None)
    client.drain(0.1)
    start = client.send(["Enter"])
    deadline = start + 20
    while time.perf_counter() < deadline:
        for path in folder.glob("*.bib"):
            with contextlib.suppress(OSError):
                if doi in path.read_text():
                    return f"{time.perf_counter() - start:.2f} s to the file"
        client.drain(0.01)
    return "no file in 20 s"


# ---------------------------------------------------------------------------
# 3. A mark


def mark_seconds(path: Path, runs: int) -> list[float]:
    """Seconds `set_marked` takes (it returns once the mark is on disk), marking and
    unmarking one record `runs` times each; the library is left as it was."""
    from tui.library import RecordStore

    store = RecordStore.open(path)
    with store.view() as view:
        record_id = view.rows(view.search("")[:1])[0].id
    store.set_marked([record_id], True)  # warm-up
    store.set_marked([record_id], False)
    times = []
    for _ in range(runs):
        for value in (True, False):
            start = time.perf_counter()
            store.set_marked([record_id], value)
            times.append(time.perf_counter() - start)
    return times


def marks_section(report: Report, settings: Settings, small: Library, large: Library) -> None:
    """A mark at both sizes, through the store's API in this process."""
    with report.section("Marks") as raw:
        big = mark_seconds(large.path, settings.mark_runs)
        little = mark_seconds(small.path, settings.mark_runs)
        raw.update(large=big, small=little)
        seconds, base = statistics.median(big), statistics.median(little)
        report.add(
            Row(
                f"A mark durable on disk (`set_marked`), median of {len(big)}",
                f"{seconds:.3f} s",
                f"{base:.3f} s at {small.count:,}",
                ratio(seconds, base),
                "no regression: ≤0.42 s (README)",
                seconds <= 0.42,
            )
        )


# ---------------------------------------------------------------------------
# 4. Id assignment


def import_same_key(count: int, library_path: str, out: str) -> None:
    """In a child: import `count` records sharing first author, year and first title word
    into an empty library; writes the seconds the import took (not making the records)."""
    from benchmarks.synthetic import make_records
    from tui.library import RecordStore
    from tui.models import Author

    first = Author(family="Smith", given="Ann")
    records = [
        r.with_changes(
            authors=(first, *r.authors[1:]),
            year=2020,
            title=f"Leukemia {r.title}",
            doi=f"10.5555/same.{n}",
        )
        for n, r in enumerate(make_records(count, seed=7))
    ]
    start = time.perf_counter()
    result = RecordStore.open(Path(library_path)).upsert(records)
    seconds = time.perf_counter() - start
    Path(out).write_text(
        json.dumps({"seconds": seconds, "added": len(result.added), "ids": result.added[:3]})
    )


def ids_section(report: Report, settings: Settings) -> None:
    """Imports of 5k, 10k and 20k records that all want the same id."""
    env = child_env(settings.workdir)
    with report.section("Id assignment") as raw:
        folder = settings.workdir / "ids"
        figures: dict[int, dict[str, Any]] = {}
        for count in settings.id_sizes:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            out = folder / "import.json"
            code = (
                "from benchmarks.targets import import_same_key; "
                f"import_same_key({count}, {str(folder / 'library.json')!r}, {str(out)!r})"
            )
            child = run_child(python_code(code), settings.workdir, env)
            figures[count] = json.loads(out.read_text()) | {"peak_mb": child.peak_mb}
        shutil.rmtree(folder, ignore_errors=True)
        raw.update({str(k): v for k, v in figures.items()})
        low, high = min(figures), max(figures)
        times = " / ".join(f"{figures[c]['seconds']:.1f}" for c in settings.id_sizes)
        sizes = " / ".join(f"{c // 1000}k" if c >= 1000 else str(c) for c in settings.id_sizes)
        r = ratio(figures[high]["seconds"], figures[low]["seconds"])
        linear = high / low
        report.add(
            Row(
                f"Importing {sizes} records with the same first author, year and title word "
                f"(ids {', '.join(figures[high]['ids'])}...)",
                f"{times} s",
                "before: 7.3 / 26 / 120 s (issue 11.16)" if not settings.quick else "",
                r,
                f"~{linear:g}x ({high:,} / {low:,}: linear)",
                r is not None and r <= linear * 1.5,
            )
        )


# ---------------------------------------------------------------------------
# 5. A very large import


def large_import_section(report: Report, settings: Settings) -> None:
    """120,000 RIS records (205 MB) into an empty library: time and peak RSS."""
    from benchmarks import large_import

    env = child_env(settings.workdir)
    with report.section("Large import") as raw:
        large_import.BENCH_DIR = settings.workdir
        path, count = large_import.build_file(200, "ris")
        folder = settings.workdir / "large-import"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        child = run_child(
            refdeck("import", "--db", str(folder / "library.json"), str(path)),
            settings.workdir,
            env,
        )
        shutil.rmtree(folder, ignore_errors=True)
        raw.update(asdict(child) | {"records": count, "megabytes": path.stat().st_size / 1e6})
        report.add(
            Row(
                f"Importing {count:,} RIS records ({path.stat().st_size / 1e6:.0f} MB) into an "
                "empty library",
                f"{child.seconds:.0f} s, {child.peak_mb:.0f} MB"
                + (f" (exit {child.exit})" if child.exit else ""),
                "before: 83 s, 875 MB (README)",
                ratio(child.seconds, 83),
                "no regression: ≤83 s, ≤875 MB",
                child.seconds <= 83 and child.peak_mb <= 875 and child.exit == 0,
            )
        )


# ---------------------------------------------------------------------------
# The run


def header(settings: Settings, load_before: tuple[float, float, float]) -> str:
    """Where and when the figures were taken, and how busy the machine was."""
    import textual

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    load_after = os.getloadavg()
    return (
        f"{dt.datetime.now():%Y-%m-%d %H:%M}, commit {commit or '?'}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Textual {textual.__version__}; "
        f"load average (1/5/15 min) {'/'.join(f'{x:.2f}' for x in load_before)} before, "
        f"{'/'.join(f'{x:.2f}' for x in load_after)} after"
        + ("; --quick (small sizes, few runs: a smoke test, not figures)" if settings.quick else "")
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Build or reuse the libraries, measure every target, print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--small", type=int, help="records of the small library (1000)")
    parser.add_argument("--large", type=int, help="records of the large library (100000)")
    parser.add_argument("--workdir", default="/tmp/refdeck-bench")
    parser.add_argument("--quick", action="store_true", help="small sizes, few runs: a smoke test")
    parser.add_argument(
        "--large-import", action="store_true", help="also import 120,000 RIS records (minutes)"
    )
    settings = Settings.from_args(parser.parse_args(argv))
    settings.workdir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    report = Report()

    print("libraries", flush=True)
    small, large = library(settings, settings.small), library(settings, settings.large)
    for lib in (small, large):
        built = f"built in {lib.built_seconds:.0f} s" if lib.built_seconds else "reused"
        print(
            f"  {lib.count:,} records: {lib.path} ({lib.path.stat().st_size / 1e6:.0f} MB, {built})"
        )
    index_section(report, settings, small, large)
    cli_section(report, settings, small, large)

    from tests.terminal.tmux import TmuxTerminal

    if TmuxTerminal.available():
        floor = floor_seconds(5 if not settings.quick else 2)
        report.raw["floor_seconds"] = floor
        browser_section(report, settings, large, floor)
    else:
        report.skip("Browser", "tmux is not installed (apt-get install tmux)")
    marks_section(report, settings, small, large)
    ids_section(report, settings)
    if settings.large_import:
        large_import_section(report, settings)

    top = header(settings, load_before)
    table = markdown_table(report.rows, f"{settings.large:,} records")
    dump = settings.workdir / "targets.json"
    report.raw["header"] = top
    report.raw["rows"] = [asdict(row) for row in report.rows]
    dump.write_text(json.dumps(report.raw, indent=1, default=str))
    print(f"\n{top}\n\n{table}\n\nRaw figures: {dump}")


if __name__ == "__main__":
    main()
