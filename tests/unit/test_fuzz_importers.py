"""Fuzzing every importer: random mutations of real sample files keep the import contract.

Hypothesis takes small real files of each format (`tests/fuzzing.py` lists
them) and truncates them, flips bytes, inserts braces, quotes, `@`, `ER  -`,
NULs and terminal escapes, megabyte fields and 100k-deep nesting, and
re-encodes them. Each result goes through `read_file` and `parse_text` (format
detected and forced), and must be records and/or a clear, located error:
never a traceback, a hang, control characters in a record, or a record lost
without a word. `tests/fuzzing.py` spells the contract out.

The run here is bounded (`REFDECK_FUZZ_EXAMPLES` examples per format, 100 by
default); `python -m benchmarks.fuzz --minutes N` runs the same checks for long.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import time

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.fuzzing import (
    Hang,
    HypothesisPicker,
    Mutated,
    Run,
    Seed,
    check,
    examine,
    examine_with,
    hang_guard,
    mutate,
    seeds_of,
)
from tui.formats import FORMAT_NAMES, ParseResult
from tui.models import Record

EXAMPLES = int(os.environ.get("REFDECK_FUZZ_EXAMPLES", "100"))

FUZZ = settings(
    max_examples=EXAMPLES,
    # Examples with a megabyte field take a second; the hang guard bounds each run instead.
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)


def test_every_format_has_seeds() -> None:
    for name in FORMAT_NAMES:
        assert seeds_of(name), name


@pytest.mark.parametrize("format_name", FORMAT_NAMES)
@FUZZ
@given(data=st.data())
def test_mutated_files_keep_the_import_contract(format_name: str, data: st.DataObject) -> None:
    pick = HypothesisPicker(data.draw)
    seed = pick.choice(seeds_of(format_name))
    verdict = examine(pick, mutate(pick, seed))
    for step in verdict.mutated.steps:  # `--hypothesis-show-statistics` shows the mix
        event(step.split(" ")[0])
    assert not verdict.problems, verdict.describe()


# ---------------------------------------------------------------------------
# The hazards list (P1-P4), always tried: random runs may not hit them

RIS = "TY  - JOUR\nTI  - Latin-1 café au lait\nAU  - Müller, Jörg\nPY  - 2001\nER  - \n"
JSON_RECORD = '{"type": "article-journal", "title": "A title", "DOI": "10.1000/x"}'
AGGREGATOR = (
    "Ann Smith\n"
    '{"title": "A title", "doi": "10.1000/x", "PeriodicalIF": 1.5, "JCR": "Q2"}\n'
    "引用次数: 3\n"
)

HAZARDS: dict[str, tuple[str, bytes]] = {
    "empty.bib": ("bibtex", b""),
    "blank.ris": ("ris", b" \n\t\n"),
    "bom-only.json": ("json_records", codecs.BOM_UTF8),
    "lone-at.bib": ("bibtex", b"@"),
    "unclosed-brace.bib": ("bibtex", b"@article{a,\n  title = {Never closed,\n  year = 2021\n"),
    "missing-comma.bib": ("bibtex", b"@article{a,\n  title = {T}\n  year = 2021\n}\n"),
    "duplicate-field.bib": ("bibtex", b"@article{a,\n title = {A},\n title = {B}\n}\n"),
    "empty-key.bib": ("bibtex", b"@article{,\n title = {A}\n}\n"),
    "undefined-macro.bib": ("bibtex", b"@article{a,\n title = {A},\n month = jul, journal = foo\n}\n"),
    "200k-braces.bib": ("bibtex", b"@article{a, title = {" + b"{" * 200_000 + b"x" + b"}" * 200_000 + b"}}\n"),
    "200k-open-braces.bib": ("bibtex", b"@article{a, title = " + b"{" * 200_000 + b"\n"),
    "binary.bib": ("bibtex", bytes(range(256)) * 40),
    "nul-esc.bib": ("bibtex", b"@article{a, title = {A\x00B\x1b[2J\xc2\x9bC}}\n"),
    "latex-escape.bib": ("bibtex", b'@article{a, title = {A ^^[ \\char"1B \\char27 B}}\n'),
    "bom.ris": ("ris", codecs.BOM_UTF8 + RIS.encode()),
    "no-er.ris": ("ris", RIS.replace("ER  - \n", "").encode()),
    "no-ty.ris": ("ris", RIS.replace("TY  - JOUR\n", "").encode()),
    "crlf.ris": ("ris", RIS.replace("\n", "\r\n").encode()),
    "latin1.ris": ("ris", RIS.encode("latin-1")),
    "utf16le.ris": ("ris", codecs.BOM_UTF16_LE + RIS.encode("utf-16-le")),
    "utf16be.ris": ("ris", codecs.BOM_UTF16_BE + RIS.encode("utf-16-be")),
    "utf16-no-bom.ris": ("ris", RIS.encode("utf-16-le")),
    "gb18030.ris": ("ris", RIS.replace("café au lait", "中文标题").encode("gb18030")),
    "deep-100k.json": ("json_records", b"[" * 100_000 + b"]" * 100_000),
    "deep-open.json": ("json_records", b'{"a":' * 100_000),
    "huge-int.json": ("json_records", b'[{"title": "A", "volume": ' + b"9" * 5000 + b"}]"),
    "nan.json": ("json_records", b'[{"title": "A", "citationCount": NaN}]'),
    "duplicate-keys.json": ("json_records", b'[{"title": "A", "title": "B", "type": "book"}]'),
    "scalar.json": ("json_records", b"42"),
    "null.json": ("json_records", b"null"),
    "nulls.json": ("json_records", b"[null, null]"),
    "surrogate.json": ("json_records", b'[{"title": "A \\ud800 B", "type": "book"}]'),
    "escapes.json": ("json_records", b'[{"title": "A \\u001b[2J \\u009b \\u202e B", "type": "book"}]'),
    "jsonl-broken-line.jsonl": ("json_records", (JSON_RECORD + "\n{broken\n" + JSON_RECORD).encode()),
    "truncated.txt": ("aggregator", AGGREGATOR.encode()[: AGGREGATOR.encode().index(b"JCR")]),
    "glued.txt": ("aggregator", AGGREGATOR.replace('\n{"title"', ' {"title"').encode()),
    "unknown-codes.txt": ("aggregator", AGGREGATOR.replace("引用次数", "未知").encode()),
    "tabs.txt": ("aggregator", AGGREGATOR.replace("\n", "\n\t").encode()),
    "long-line.txt": ("aggregator", AGGREGATOR.replace("A title", "x" * 1_000_000).encode()),
    "long-line.bib": ("bibtex", b"@article{a, title = {" + b"word " * 200_000 + b"}}\n"),
    "long-line.ris": ("ris", RIS.replace("café", "x" * 1_000_000).encode()),
    "long-line.nbib": ("medline", b"PMID- 1\nTI  - " + b"x" * 1_000_000 + b"\n"),
    "long-line.xml": (
        "pubmed_xml",
        b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>"
        + b"x" * 1_000_000
        + b"</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>",
    ),
    "deep.xml": (
        "pubmed_xml",
        b"<PubmedArticleSet><PubmedArticle>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</PubmedArticle>",
    ),
    "entity-bomb.xml": (
        "pubmed_xml",
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<PubmedArticleSet>&b;</PubmedArticleSet>",
    ),
    "medline-only-garbage.nbib": ("medline", b"PMID-\nnot a tag\n"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(HAZARDS))
def test_hazard_catalogue(name: str) -> None:
    fmt, data = HAZARDS[name]
    suffix = "." + name.rsplit(".", 1)[1]
    mutated = Mutated(Seed(name, fmt, suffix, data), data, [name], lossless=False)
    verdict = examine_with(mutated, suffix, fmt)
    assert not verdict.problems, verdict.describe()
    for run in verdict.runs:
        # A hazard either imports or fails with an error; it never raises or hangs.
        assert run.result is not None


def test_an_empty_file_says_it_is_empty() -> None:
    mutated = Mutated(Seed("empty", "bibtex", ".bib", b""), b"", ["empty"], lossless=False)
    for run in examine_with(mutated, ".bib", "ris").runs:
        assert run.result is not None
        assert [issue.message for issue in run.result.issues] == ["is empty"], run.entry


# ---------------------------------------------------------------------------
# The checks themselves: a fuzzer that cannot fail finds nothing


def _run(result: ParseResult) -> Run:
    return Run("parse_text auto", result.file, "text", 0.0, result)


def _mutated() -> Mutated:
    return Mutated(Seed("x", "ris", ".ris", b""), b"")


def test_the_contract_flags_silent_results_and_unsafe_records() -> None:
    silent = ParseResult(file="f.ris")
    silent.warn(1, None, "something odd")
    assert any(p.startswith("silent") for p in check(_run(silent), _mutated()))

    unsafe = ParseResult(file="f.ris", records=[Record(title="A \x1b[2J title")])
    assert any("holds '\\x1b'" in p for p in check(_run(unsafe), _mutated()))

    swallowed = ParseResult(file="f.ris", records=[Record(title="A")])
    swallowed.fail(3, "record 1", "could not be read (KeyError: 'x'); not imported")
    assert any("swallowed exception KeyError" in p for p in check(_run(swallowed), _mutated()))

    elsewhere = ParseResult(file="f.ris", records=[Record(title="A")])
    elsewhere.fail(9, "record 1", "broken")
    assert any("outside 1..1" in p for p in check(_run(elsewhere), _mutated()))


def test_the_hang_guard_stops_a_runaway_parse() -> None:
    start = time.perf_counter()
    with pytest.raises(Hang), hang_guard(0.2):
        while True:
            with contextlib.suppress(Exception):  # a parser's catch-all must not stop the guard
                time.sleep(0.01)
    assert time.perf_counter() - start < 5
