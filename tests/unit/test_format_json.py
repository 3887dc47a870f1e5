"""The JSON dispatcher: envelopes, JSON Lines, converter choice and malformed input."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tui.formats import ParseResult, detect, json_records, parse_text, read_file
from tui.formats.json_records import BadJSON, loads, value_offsets

DATA = Path(__file__).parent.parent / "data"
SEED_JSON = (DATA / "000_b11f5d7b0448d0c6.txt").read_text(encoding="utf-8").split("\n")[1]

BOOK = '{"type": "book", "title": "Good book", "DOI": "10.1000/good"}'


def parse(text: str, file: str = "x.json") -> ParseResult:
    return parse_text(text, file, format="json_records")


def messages(result: ParseResult) -> list[str]:
    return [str(issue) for issue in result.issues]


# ---------------------------------------------------------------------------
# Detection


def test_sniff_and_detect() -> None:
    assert json_records.sniff('  \n[{"a": 1}]')
    assert json_records.sniff('\ufeff{"a": 1}')
    assert not json_records.sniff("TY  - JOUR\n")
    assert not json_records.sniff("")
    assert detect(BOOK, "refs.json") == "json_records"
    assert detect(BOOK, "refs.txt") == "json_records"  # content decides


# ---------------------------------------------------------------------------
# Malformed input: a located message, never an exception


def test_truncated_json() -> None:
    result = parse('[{"type": "book", "title": "A"}, {"type": "book", "title": ')
    assert result.records == []
    assert messages(result) == [
        "x.json:1: invalid JSON at line 1, column 60: unexpected end of data"
    ]


def test_truncated_pretty_printed_json_is_located_on_its_line() -> None:
    text = orjson.dumps([{"type": "book", "title": "A"}] * 3, option=orjson.OPT_INDENT_2)
    result = parse(text.decode()[:-20])
    (issue,) = result.issues
    assert issue.line == 12 and issue.message.startswith("invalid JSON at line 12")


def test_nesting_100000_deep() -> None:
    result = parse("[" * 100_000)
    assert messages(result) == ["x.json:1: invalid JSON at line 1, column 1026: nested too deeply"]
    result = parse('{"a":' * 100_000)
    assert "nested too deeply" in result.issues[0].message


def test_5000_digit_integer() -> None:
    result = parse('[{"type": "book", "title": "A", "volume": ' + "7" * 5000 + "}]")
    assert messages(result) == ["x.json:1: invalid JSON at line 1, column 43: number too large"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_rejected(constant: str) -> None:
    result = parse('[{"type": "book",\n "title": "A", "volume": ' + constant + "}]")
    (issue,) = result.issues
    assert issue.line == 2
    assert "NaN and Infinity are not valid JSON numbers" in issue.message


@pytest.mark.parametrize(
    ("text", "kind"),
    [("42", "number"), ('"refs"', "string"), ("true", "boolean"), ("null", "null")],
)
def test_top_level_scalar(text: str, kind: str) -> None:
    result = parse(f"\n{text}")
    assert messages(result) == [f"x.json:2: is a JSON {kind}, not a record or a list of records"]


def test_empty_array_and_empty_envelope() -> None:
    assert messages(parse("[]")) == ["x.json: holds an empty JSON array: no records"]
    result = parse('{"meta": {"count": 0}, "results": []}')
    assert messages(result) == ["x.json: holds an empty list: no records"]


def test_object_that_is_not_a_record() -> None:
    result = parse('{"name": "refdeck", "version": "1.0", "dependencies": {}}')
    assert messages(result) == [
        "x.json:1: entry 1: not a bibliographic record refdeck recognizes "
        "(keys: name, version, dependencies)"
    ]
    assert result.failed == 1


def test_crossref_error_envelope() -> None:
    result = parse(
        '{"status": "failed", "message-type": "validation-failure",'
        ' "message": [{"type": "x", "message": "bad \\u001b[31m"}]}'
    )
    (issue,) = result.issues
    assert issue.message.startswith("is a Crossref error response (validation-failure)")
    assert "\x1b" not in issue.message
    result = parse('{"status": "ok", "message-type": "member", "message": {"id": 1}}')
    assert "is a Crossref 'member' response, not works" in result.issues[0].message


def test_bad_items_do_not_stop_good_ones() -> None:
    text = f'[\n{BOOK},\n7,\nnull,\n{{"foo": 1}},\n"x",\n[],\n{BOOK.replace("Good", "Other")}\n]'
    result = parse(text)
    assert [r.title for r in result.records] == ["Good book", "Other book"]
    assert messages(result) == [
        "x.json:3: entry 2: is a JSON number, not a record",
        "x.json:4: warning: entry 3: is null (a record the source did not find); skipped",
        "x.json:5: entry 4: not a bibliographic record refdeck recognizes (keys: foo)",
        "x.json:6: entry 5: is a JSON string, not a record",
        "x.json:7: entry 6: is a JSON array, not a record",
    ]
    assert result.failed == 4


def test_unrecognized_entries_are_summed_up_after_fifty() -> None:
    result = parse(orjson.dumps([{"n": i} for i in range(60)]).decode())
    assert result.failed == 60
    assert len(result.issues) == 51
    assert result.issues[-1].message == (
        "10 more entries are not bibliographic records refdeck recognizes"
    )


def test_a_converter_bug_fails_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.formats import csl_json

    real = csl_json.convert

    def flaky(obj: dict, result: ParseResult, **kwargs: object) -> None:
        if obj.get("title") == "Boom":
            raise KeyError("\x1b[2Jboom")
        real(obj, result, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(csl_json, "convert", flaky)
    result = parse(f'[{{"type": "book", "title": "Boom"}}, {BOOK}]')
    assert [r.title for r in result.records] == ["Good book"]
    (issue,) = result.issues
    assert issue.entry == "entry 1 (Boom)"
    assert issue.message.startswith("could not be read (KeyError:")
    assert "\x1b" not in issue.message


# ---------------------------------------------------------------------------
# JSON Lines


def test_jsonl_with_one_bad_line() -> None:
    lines = [BOOK, '{"type": "book", "title": ', "", BOOK.replace("Good", "Third"), "42"]
    result = parse("\n".join(lines), "refs.json")
    assert [r.title for r in result.records] == ["Good book", "Third book"]
    assert messages(result) == [
        "refs.json:2: invalid JSON at column 27: unexpected end of data",
        "refs.json:5: is a JSON number, not a record or a list of records",
    ]


def test_jsonl_whose_first_line_is_bad() -> None:
    result = parse('{"type": \n' + BOOK + "\n" + BOOK)
    assert len(result.records) == 2
    assert [i.line for i in result.issues] == [1]


def test_jsonl_read_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "refs.jsonl"
    works = [
        {"status": "ok", "message-type": "work", "message": {"DOI": "10.1/a", "title": ["A"]}},
        {"paperId": "p1", "title": "B", "externalIds": {"DOI": "10.1000/b"}},
        {"id": "https://openalex.org/W1", "title": "C", "doi": "https://doi.org/10.1000/c"},
    ]
    path.write_text("\n".join(orjson.dumps(w).decode() for w in works) + "\n{broken\n")
    result = read_file(path)
    assert result.format == "json_records"
    assert [(r.title, r.source[0].format) for r in result.records] == [
        ("A", "crossref"),
        ("B", "semantic_scholar"),
        ("C", "openalex"),
    ]
    assert [(i.line, i.severity) for i in result.issues] == [(1, "warning"), (4, "error")]
    assert "malformed DOI" in result.issues[0].message  # "10.1/a" is too short a prefix


def test_a_single_line_jsonl_file_with_an_error(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text('{"title": "x",\n')
    result = read_file(path)
    assert messages(result) == [f"{path}:1: invalid JSON at column 15: unexpected end of data"]


# ---------------------------------------------------------------------------
# Envelopes, converter choice, labels and lines


def test_items_are_located_in_pretty_printed_files() -> None:
    text = orjson.dumps(
        {"meta": {"count": 2, "x": [1, 2]}, "results": [{"foo": 1}, {"title": "[{"}, None]},
        option=orjson.OPT_INDENT_2,
    ).decode()
    result = parse(text)
    assert [(i.line, i.entry) for i in result.issues] == [
        (10, "entry 1"),
        (13, "entry 2 ([{)"),
        (16, "entry 3"),
    ]
    assert text.split("\n")[9].strip() == "{"


def test_value_offsets_follow_keys_not_strings() -> None:
    text = '{"a": "[\\"{", "results": [1, {"b": [2, 3]}, null], "c": {"results": []}}'
    offsets = value_offsets(text)
    assert [text[o] for o in offsets[("results", "[]")]] == ["1", "{", "n"]
    assert ("results", "[]", "b") not in offsets  # inside an item: not recorded
    assert offsets[("c", "results")] == [text.rindex("[")]


def test_converter_order_and_formats() -> None:
    items = [
        orjson.loads(SEED_JSON),
        {"title": "Export", "authors_structured": [], "source": [], "type": "book"},
        {"DOI": "10.1000/cr", "title": ["Crossref"], "type": "journal-article"},
        {"id": "https://openalex.org/W2", "title": "OpenAlex", "type": "article"},
        {"paperId": "x", "title": "S2"},
        {"id": "c1", "type": "article-journal", "title": "CSL"},
        {"status": "ok", "message-type": "work", "message": {"DOI": "10.1000/w", "title": ["W"]}},
    ]
    result = parse(orjson.dumps(items).decode())
    assert [r.source[0].format for r in result.records] == [
        "aggregator",
        "refdeck_json",
        "crossref",
        "openalex",
        "semantic_scholar",
        "csl_json",
        "crossref",
    ]
    seed = result.records[0]
    assert seed.doi == "10.1016/j.molmed.2025.04.005"
    assert seed.jcr_quartile == "Q1" and seed.impact_factor == 12.8


def test_generic_list_envelopes() -> None:
    for key in ("items", "data", "results", "records", "references"):
        result = parse(orjson.dumps({key: [orjson.loads(BOOK)]}).decode())
        assert [r.title for r in result.records] == ["Good book"], key


def test_lone_surrogates_are_replaced_not_fatal() -> None:
    result = parse('[{"type": "book", "title": "Cut \\ud83d here"}]')
    assert result.records[0].title == "Cut \ufffd here"
    orjson.dumps(result.records[0].to_doc())  # the store can write it


def test_escaped_keys_and_surrogate_keys_in_envelopes() -> None:
    text = '{"\\ud800": 1, "res\\u0075lts": [\n{"type": "book", "title": "\\ud800"},\n{"x": 1}]}'
    result = parse(text)
    assert result.records[0].title == "\ufffd"
    assert [(i.line, i.entry) for i in result.issues] == [(3, "entry 2")]


def test_byte_order_mark() -> None:
    assert parse("\ufeff" + BOOK).records[0].title == "Good book"


def test_loads_raises_only_bad_json() -> None:
    with pytest.raises(BadJSON) as caught:
        loads("[1,")
    assert (caught.value.line, caught.value.column) == (1, 4)
    with pytest.raises(BadJSON):
        loads('["\\ud800", NaN]')  # the lenient path still refuses NaN
    with pytest.raises(BadJSON):
        loads('["\\ud800", ' + "[" * 5000 + "]" * 5000 + "]")
    assert loads('"\\ud800"') == "\ufffd"
    # Integers the store could not write become floats, as orjson reads them.
    assert loads('["\\ud800", 123, 99999999999999999999999]')[1:] == [123, 1e23]
    with pytest.raises(BadJSON, match="number too large"):
        loads('["\\ud800", ' + "9" * 400 + "]")
