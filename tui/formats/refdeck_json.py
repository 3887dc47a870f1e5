"""refdeck's own JSON: the `Record.to_json()` objects that `refdeck search --format json`
and `show --format json` print (and, for good measure, the library's `to_doc()` shape).

Re-importing an export must give back the same record. Two details need care:

* Authors: `authors` holds display names ("Guido van Rossum"), which would have
  to be re-split; `authors_structured` holds the real family/given/literal
  parts, so it is used whenever present.
* Extra: the export's `extra` is already namespaced by the original format
  (`{"crossref": {...}, "openalex": {...}}`), while `build_record` namespaces
  whatever it gets under the importing format. So the whole dict is passed in
  (and cleaned by `build_record` like any extra), then lifted back out of the
  `refdeck_json` namespace: a Crossref record exported and re-imported still
  has its Crossref fields under `extra["crossref"]`. What this importer adds
  itself (the exported record's `id` and `source` list, and any warning field
  such as `invalid_doi`) stays under `extra["refdeck_json"]`.

The user's own fields (`tags`, `note`, `marked`, `added`) are not imported from
a file: they belong to the library they were set in.
"""

from __future__ import annotations

from typing import Any

from tui.formats.base import ParseResult
from tui.formats.csl_json import drop_empty, is_empty, string_list
from tui.models import USER_FIELDS, Record

NAME = "refdeck_json"

# Every key `Record.to_json()` writes: an object with all of them is an export
# even when a tool has dropped the `authors_structured` list.
_RECORD_KEYS = frozenset(Record.__dataclass_fields__) | {"authors_structured"}
_SCALARS = (
    "title",
    "doi",
    "year",
    "date",
    "journal",
    "volume",
    "issue",
    "pages",
    "abstract",
    "type",
    "citation_count",
    "impact_factor",
    "jcr_quartile",
    "jcr_category",
    "open_access",
    "pdf_url",
    "url",
    "publisher",
    "issn",
    "isbn",
    "pmid",
    "pmcid",
    "language",
    "key",
)
# Fields that are neither imported nor kept: the user's, or derived (display names).
_NOT_KEPT = frozenset(USER_FIELDS) | {"authors", "editors", "authors_structured"}


def _is_source_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(s, dict) and "format" in s and "file" in s for s in value)
    )


def matches(obj: dict[str, Any]) -> bool:
    """Return True for a refdeck export: `authors_structured` + `source`, or every record key."""
    if "authors_structured" in obj and "source" in obj:
        return True
    if _RECORD_KEYS - {"authors_structured", "editors_structured"} <= obj.keys():
        return True
    # A library document (`Record.to_doc()`): sources are refdeck's {format, file} objects.
    return _is_source_list(obj.get("source")) and not {"title", "doi", "authors"}.isdisjoint(obj)


def _people(obj: dict[str, Any], role: str) -> list[dict[str, Any] | str]:
    """Structured names when the export has them, else the display names (to be re-split)."""
    structured = obj.get(f"{role}_structured")
    people = structured if isinstance(structured, list) else obj.get(role)
    if not isinstance(people, list):
        return []
    return [p for p in people if isinstance(p, dict | str)]


def convert(
    obj: dict[str, Any], result: ParseResult, *, line: int | None, entry: str | None
) -> None:
    """Add one exported refdeck record to `result`, keeping its extra under its formats."""
    raw_extra = obj.get("extra")
    original: dict[str, Any] = raw_extra if isinstance(raw_extra, dict) else {}
    namespaces = {k for k, v in original.items() if isinstance(v, dict) and k != NAME}
    payload: dict[str, Any] = {k: v for k, v in original.items() if k != NAME}
    previous = original.get(NAME)
    own: dict[str, Any] = dict(previous) if isinstance(previous, dict) else {}
    # Where the record came from before it was exported: kept, not re-imported as identity.
    for key in ("id", "source"):
        if not is_empty(obj.get(key)):
            own[f"exported_{key}"] = obj[key]
    # Unknown top-level keys (a newer refdeck's fields) are kept too.
    known = _RECORD_KEYS | _NOT_KEPT | {"editors_structured"}
    own.update({k: v for k, v in obj.items() if k not in known and not is_empty(v)})
    if own:
        payload[NAME] = own
    # Containers where a scalar belongs would only turn into "['...']" text.
    fields = {name: None if isinstance(v := obj.get(name), dict | list) else v for name in _SCALARS}
    record = result.add(
        format=NAME,
        line=line,
        entry=entry,
        authors=_people(obj, "authors"),
        editors=_people(obj, "editors"),
        keywords=string_list(obj.get("keywords")),
        extra=drop_empty(payload),
        **fields,
    )
    if record is None or NAME not in record.extra:
        return
    lifted: dict[str, Any] = {}
    for key, value in record.extra[NAME].items():
        if key in namespaces:
            lifted[key] = value
        elif key == NAME and isinstance(value, dict):
            lifted.setdefault(NAME, {}).update(value)
        else:  # build_record's own notes (invalid_doi) and non-dict leftovers
            lifted.setdefault(NAME, {})[key] = value
    # `result.add` appended `record`; swap in the copy with the lifted extra.
    if result.records and result.records[-1] is record:
        result.records[-1] = record.with_changes(extra=lifted)
