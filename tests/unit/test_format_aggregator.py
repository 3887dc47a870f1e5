"""The aggregator's text format (the seed record's): broken record lines are reported."""

from __future__ import annotations

import time

from tui.formats import ParseResult, aggregator, detect, parse_text

RECORD = (
    "Ann Smith, Bo Li\n"
    '{"title": "{title}", "doi": "10.1000/{n}", "PeriodicalIF": 1.5, "JCR": "Q2"}\n'
    "引用次数: 3\n"
)


def record(n: int) -> str:
    return RECORD.replace("{title}", f"Title {n}").replace("{n}", str(n))


def parse(text: str) -> ParseResult:
    return parse_text(text, "x.txt", format="aggregator")


def test_records_split_at_their_json_lines() -> None:
    result = parse(record(1) + record(2))
    assert [r.title for r in result.records] == ["Title 1", "Title 2"]
    assert [r.citation_count for r in result.records] == [3, 3]
    assert result.issues == []


def test_a_json_line_with_text_glued_before_it_is_reported() -> None:
    # Found by fuzzing: one byte inserted before a record's `{` made its line no
    # record line, and the record vanished without a word.
    glued = record(2).replace('\n{"title"', '\n={"title"')
    result = parse(record(1) + glued + record(3))
    assert [r.title for r in result.records] == ["Title 1", "Title 3"]
    assert [(i.line, i.severity, i.message) for i in result.issues] == [
        (5, "error", "text before a record's JSON line; record not imported")
    ]
    assert result.failed == 1


def test_a_truncated_json_line_is_reported() -> None:
    cut = record(2).split('"PeriodicalIF"')[0]
    result = parse(record(1) + cut + "\n" + record(3))
    assert [r.title for r in result.records] == ["Title 1", "Title 3"]
    assert [(i.line, i.message) for i in result.issues] == [
        (5, "record's JSON line is not valid JSON (truncated?)")
    ]


def test_text_before_the_first_record_is_reported() -> None:
    # Found by fuzzing: a BibTeX file with one aggregator record pasted into it was read
    # as that one record, and its 20 entries were ignored without a word.
    result = parse("@article{a,\n  title = {T}\n}\n\n" + record(1))
    assert [r.title for r in result.records] == ["Title 1"]
    assert [(i.line, i.severity, i.message) for i in result.issues] == [
        (1, "warning", "text before the first record (lines 1-3) ignored: '@article{a,'")
    ]


def test_a_record_on_the_first_line_has_no_text_before_it() -> None:
    result = parse(record(1).split("\n", 1)[1] + "\n")
    assert [r.title for r in result.records] == ["Title 1"]
    assert result.issues == []


def test_braces_and_keys_in_an_abstract_are_not_a_record() -> None:
    abstract = 'Abstract\nWe fit {x} to the "title" field of each record.\n'
    result = parse(record(1) + abstract)
    assert [r.title for r in result.records] == ["Title 1"]
    assert result.issues == []


def test_sniffing_many_blank_lines_takes_linear_time() -> None:
    # Found by fuzzing: `^\s*` ran over all following blank lines from every line
    # start, so detecting the format of a RIS file with 100k blank lines hung.
    ris = "TY  - JOUR\nTI  - A\n" + "\n" * 200_000 + "ER  - \n"
    start = time.perf_counter()
    assert detect(ris) == "ris"
    assert not aggregator.sniff("\n" * 200_000)
    assert aggregator.sniff("\n" * 200_000 + "  引用次数: 3\n")
    assert time.perf_counter() - start < 5
