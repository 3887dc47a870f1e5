"""A Markdown reading list: one numbered item per record, with a DOI link.

Record text is data, not Markdown: every character Markdown or HTML would
act on is backslash-escaped, so a title like `[click](javascript:...)` or
`<script>` stays visible text in any renderer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from tui.display import volume_issue_pages
from tui.models import Record

# Characters that act anywhere in a line; `#`, `-`, `+` and `1.` act only at a line's start,
# where record text never is. `&` only matters as the start of an entity (`&amp;`).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~]|&(?=#?\w+;))")
_SPACES = re.compile(r"\s+")
_MAX_AUTHORS = 6
# URL characters kept as they are; spaces and `<>` are encoded so the link cannot end early.
_URL_SAFE = ":/?#[]@!$&'*+,;=%~"


def escape(text: str) -> str:
    """`text` on one line, with everything Markdown or HTML would interpret escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _SPACES.sub(" ", text).strip())


def doi_url(doi: str) -> str:
    """The DOI resolver URL, percent-encoded so `()<>` and spaces cannot end the link."""
    return "https://doi.org/" + quote(doi, safe="/:;=,@$!*'")


def item(record: Record) -> str:
    """One list item's text (without the number)."""
    names = record.author_names
    authors = ", ".join(names[:_MAX_AUTHORS]) + (" et al." if len(names) > _MAX_AUTHORS else "")
    parts = [escape(authors) + "." if authors else ""]
    title = record.title or "(untitled)"
    parts.append(f"**{escape(title)}**" + ("" if title.endswith((".", "?", "!")) else "."))
    where = [f"*{escape(record.journal)}*" if record.journal else ""]
    where.append(escape(volume_issue_pages(record)))
    place = ", ".join(p for p in where if p)
    year = f"({record.year})" if record.year else ""
    parts.append(" ".join(p for p in (place, year) if p) + ".")
    if record.doi:
        parts.append(f"[doi:{escape(record.doi)}](<{doi_url(record.doi)}>)")
    elif record.url:
        parts.append(f"<{quote(record.url, safe=_URL_SAFE)}>")
    return " ".join(p for p in parts if p and p != ".")


def export(records: Sequence[Record], style: str | None = None) -> str:
    """A Markdown document: a heading, then the numbered list."""
    count = f"{len(records)} record" + ("" if len(records) == 1 else "s")
    lines = [f"# References ({count})", ""]
    lines += [f"{number}. {item(record)}" for number, record in enumerate(records, start=1)]
    return "\n".join(lines) + "\n"
