"""Every key binding of the browser, in one place, each with an id and a description.

Screens take their `BINDINGS` from here; the help screen, the command palette,
`refdeck --bindings` and the README's key table are all made from these lists,
so a key and its documentation cannot drift apart. Users rebind keys by id in
the config file's `[keys]` table.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.binding import Binding
from textual.keys import (
    KEY_ALIASES,
    REPLACED_KEYS,
    Keys,
    _character_to_key,
    key_to_character,
)

APP_BINDINGS = [
    Binding(
        "question_mark,f1",
        "app.help",
        "Help",
        id="help",
        tooltip="Show every key and the query syntax.",
    ),
    Binding("ctrl+q", "app.quit", "Quit", id="quit", show=False, tooltip="Leave refdeck."),
]
"""Keys that work on every screen."""

LIST_BINDINGS = [
    Binding(
        "y",
        "copy_doi",
        "Copy DOI",
        id="copy-doi",
        priority=True,
        tooltip="Copy the DOI (of every marked record, when there are marks).",
    ),
    Binding(
        "Y",
        "copy_doi_url",
        "Copy DOI URL",
        id="copy-doi-url",
        show=False,
        priority=True,
        tooltip="Copy the DOI as a https://doi.org/ link.",
    ),
    Binding(
        "b",
        "copy_bibtex",
        "Copy BibTeX",
        id="copy-bibtex",
        show=False,
        priority=True,
        tooltip="Copy the BibTeX entry (of every marked record, when there are marks).",
    ),
    Binding(
        "c",
        "copy_citation",
        "Copy citation",
        id="copy-citation",
        show=False,
        priority=True,
        tooltip="Copy a formatted citation in your citation_style (marked records: one a line).",
    ),
    Binding(
        "e",
        "export",
        "Export",
        id="export",
        show=False,
        priority=True,
        tooltip="Export this record, the marked ones or all results to a file.",
    ),
    Binding(
        "slash",
        "focus_search",
        "Search",
        id="search",
        priority=True,
        tooltip="Jump to the search line.",
    ),
    Binding(
        "enter",
        "open_record",
        "Open",
        id="open-record",
        priority=True,
        tooltip="Show the record's details.",
    ),
    Binding(
        "space",
        "toggle_mark",
        "Mark",
        id="toggle-mark",
        priority=True,
        tooltip="Mark or unmark this record.",
    ),
    Binding(
        "asterisk",
        "mark_all",
        "Mark all",
        id="mark-all",
        show=False,
        priority=True,
        tooltip="Mark every record shown.",
    ),
    Binding(
        "u",
        "clear_marks",
        "Clear marks",
        id="clear-marks",
        show=False,
        priority=True,
        tooltip="Unmark every record.",
    ),
    Binding(
        "s",
        "cycle_sort",
        "Sort",
        id="cycle-sort",
        priority=True,
        tooltip="Sort by the next key: relevance, year, citations...",
    ),
    Binding(
        "S",
        "reverse_sort",
        "Reverse",
        id="reverse-sort",
        show=False,
        priority=True,
        tooltip="Reverse the sort order.",
    ),
    Binding("q", "quit", "Quit", id="quit-list", priority=True, tooltip="Leave refdeck."),
]
"""Keys of the record list.

They are priority bindings of the screen, so a key that moves focus takes effect
before the keys typed right after it are delivered: `/` then `leuk` typed in one
burst (as over a slow SSH link) all land in the search line. The screen's
`check_action` enables them only while the list, not the search line, has focus.
"""

TABLE_BINDINGS = [
    Binding("down,j", "cursor_down", "Down", id="cursor-down", show=False, tooltip="Next record."),
    Binding("up,k", "cursor_up", "Up", id="cursor-up", show=False, tooltip="Previous record."),
    Binding(
        "g,home", "cursor_first", "First", id="cursor-first", show=False, tooltip="First record."
    ),
    Binding("G,end", "cursor_last", "Last", id="cursor-last", show=False, tooltip="Last record."),
    Binding(
        "pagedown", "page_down", "Page down", id="page-down", show=False, tooltip="One screen down."
    ),
    Binding("pageup", "page_up", "Page up", id="page-up", show=False, tooltip="One screen up."),
    Binding(
        "ctrl+d",
        "half_page_down",
        "Half page down",
        id="half-page-down",
        show=False,
        tooltip="Half a screen down.",
    ),
    Binding(
        "ctrl+u",
        "half_page_up",
        "Half page up",
        id="half-page-up",
        show=False,
        tooltip="Half a screen up.",
    ),
]
"""Movement keys of the record list (they belong to the table, overriding its scroll keys)."""

SEARCH_BINDINGS = [
    Binding(
        "escape",
        "leave_search",
        "Back to list",
        id="leave-search",
        priority=True,
        tooltip="Return to the list, keeping the search.",
    ),
    Binding(
        "down",
        "leave_search",
        "To list",
        id="search-to-list",
        show=False,
        priority=True,
        tooltip="Move into the list.",
    ),
    Binding(
        "enter",
        "leave_search",
        "To list",
        id="search-enter",
        show=False,
        priority=True,
        tooltip="Move into the list with the results.",
    ),
]
"""Keys of the search line, active only while it has focus (other keys type into it)."""

DETAIL_BINDINGS = [
    Binding(
        "y",
        "copy_doi",
        "Copy DOI",
        id="detail-copy-doi",
        tooltip="Copy the DOI (of every marked record, when there are marks).",
    ),
    Binding(
        "Y",
        "copy_doi_url",
        "Copy DOI URL",
        id="detail-copy-doi-url",
        show=False,
        tooltip="Copy the DOI as a https://doi.org/ link.",
    ),
    Binding(
        "b",
        "copy_bibtex",
        "Copy BibTeX",
        id="detail-copy-bibtex",
        show=False,
        tooltip="Copy the BibTeX entry (of every marked record, when there are marks).",
    ),
    Binding(
        "c",
        "copy_citation",
        "Copy citation",
        id="detail-copy-citation",
        show=False,
        tooltip="Copy a formatted citation in your citation_style (marked records: one a line).",
    ),
    Binding(
        "e",
        "export",
        "Export",
        id="detail-export",
        show=False,
        tooltip="Export this record, the marked ones or the results to a file.",
    ),
    Binding(
        "escape,q",
        "close",
        "Back",
        id="back",
        tooltip="Return to the list, with the cursor and search kept.",
    ),
    Binding(
        "n", "next_record", "Next", id="next-record", tooltip="Show the next record of the results."
    ),
    Binding(
        "p",
        "previous_record",
        "Previous",
        id="previous-record",
        tooltip="Show the previous record of the results.",
    ),
    Binding(
        "down,j",
        "scroll_down",
        "Scroll down",
        id="scroll-down",
        show=False,
        tooltip="Scroll down a line.",
    ),
    Binding(
        "up,k", "scroll_up", "Scroll up", id="scroll-up", show=False, tooltip="Scroll up a line."
    ),
    Binding(
        "space,pagedown",
        "page_down",
        "Page down",
        id="detail-page-down",
        show=False,
        tooltip="Scroll down a screen.",
    ),
    Binding(
        "pageup",
        "page_up",
        "Page up",
        id="detail-page-up",
        show=False,
        tooltip="Scroll up a screen.",
    ),
    Binding(
        "g,home", "scroll_home", "Top", id="scroll-top", show=False, tooltip="Scroll to the top."
    ),
    Binding(
        "G,end",
        "scroll_end",
        "Bottom",
        id="scroll-bottom",
        show=False,
        tooltip="Scroll to the bottom.",
    ),
    Binding(
        "d",
        "toggle_description",
        "Journal info",
        id="toggle-description",
        tooltip="Show or hide the journal's description.",
    ),
]
"""Keys of the detail screen."""

EXPORT_BINDINGS = [
    Binding(
        "escape",
        "cancel",
        "Cancel",
        id="export-cancel",
        tooltip="Close the export dialog without exporting (Enter in the file name exports).",
    ),
]
"""Keys of the export dialog; Tab moves between its fields."""

CONFIRM_BINDINGS = [
    Binding("y", "yes", "Yes", id="confirm-yes", tooltip="Yes: replace the file."),
    Binding("n,escape", "no", "No", id="confirm-no", tooltip="No: keep the file."),
]
"""Keys of the question asked before an export replaces a file."""

ALL_BINDINGS = {
    "Everywhere": APP_BINDINGS,
    "Record list": [*LIST_BINDINGS, *TABLE_BINDINGS],
    "Search line": SEARCH_BINDINGS,
    "Detail screen": DETAIL_BINDINGS,
    "Export dialog": [*EXPORT_BINDINGS, *CONFIRM_BINDINGS],
}
"""Every binding, by where it works: the source of the help screen and README table."""

KEY_SCOPES = {
    "the record list": [*APP_BINDINGS, *LIST_BINDINGS, *TABLE_BINDINGS],
    "the search line": [*APP_BINDINGS, *SEARCH_BINDINGS],
    "the detail screen": [*APP_BINDINGS, *DETAIL_BINDINGS],
    "the export dialog": [*APP_BINDINGS, *EXPORT_BINDINGS],
    "the question before replacing a file": [*APP_BINDINGS, *CONFIRM_BINDINGS],
}
"""The bindings active together: within one, a key may belong to one binding only.

(`ALL_BINDINGS` groups them for reading; here the export dialog and its question
are apart, as are the list and its search line, whose keys are never active at once.)
"""

RESERVED_KEYS = {
    "ctrl+q": "it quits refdeck",
    "ctrl+c": "it copies selected text, and quits where there is none",
    "ctrl+p": "it opens the command palette",
    "tab": "it moves between the search line, the list and the dialog's fields",
    "shift+tab": "it moves between the search line, the list and the dialog's fields",
}
"""Keys Textual gives the app whatever the bindings say: a binding that took one would
take the way out (or the palette, or the focus) away. Only their own binding may keep them."""

_MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
_NAMED_KEYS = frozenset(
    key.value.rpartition("+")[2] for key in Keys if not key.value.startswith("<")
) | frozenset(REPLACED_KEYS)  # "slash", "minus"...: Textual's names for some characters
_ALIAS_OF = {alias: key for key, aliases in KEY_ALIASES.items() for alias in aliases}


def _key(name: str) -> str | None:
    """A key as Textual matches it (`?` is `question_mark`, `ctrl+i` is `tab`), or None
    when `name` is not a key Textual can deliver."""
    *modifiers, base = name.split("+")
    if not base or len(set(modifiers)) != len(modifiers) or not _MODIFIERS.issuperset(modifiers):
        return None
    if len(base) == 1:
        if not base.isprintable() or base == " ":
            return None
        base = _character_to_key(base)  # what Textual itself does with a one-character key
    elif base not in _NAMED_KEYS and key_to_character(base) is None:
        return None
    key = "+".join([*modifiers, base])
    return _ALIAS_OF.get(key, key)


def _keys(keys: str) -> list[str | None]:
    return [_key(name.strip()) for name in keys.split(",")]


def check_keymap(keymap: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The entries of the config's `[keys]` table that can be applied, and why the others cannot.

    An entry is refused, and its binding keeps its default keys, when its id names
    no binding, one of its keys is not a key, it takes a reserved key, or it gives
    a key to two bindings active at the same time (counting the default keys of
    the bindings not rebound). Each problem names the entry and the reason.
    """
    by_id = {b.id: b for bindings in ALL_BINDINGS.values() for b in bindings if b.id}
    accepted: dict[str, str] = {}
    problems: list[str] = []

    def refuse(binding_id: str, reason: str) -> None:
        problems.append(
            f"keys.{binding_id} = {keymap[binding_id]!r}: {reason}; "
            f"it keeps its default keys ({by_id[binding_id].key})"
        )

    for binding_id, keys in keymap.items():
        if binding_id not in by_id:
            problems.append(
                f"keys.{binding_id}: no key binding has this id "
                "(refdeck --bindings lists them); ignored"
            )
            continue
        names = [name.strip() for name in keys.split(",")]
        wrong = next((name for name in names if _key(name) is None), None)
        if wrong is not None:
            refuse(
                binding_id, f"{wrong!r} is not a key (keys look like o, O, ctrl+o, f2, pagedown)"
            )
            continue
        own = set(_keys(by_id[binding_id].key))
        taken = [(name, _key(name)) for name in names]
        reserved = next(
            (pair for pair in taken if pair[1] in RESERVED_KEYS and pair[1] not in own), None
        )
        if reserved is not None:
            name, key = reserved
            shown = name if name == key else f"{name} (that is {key})"
            refuse(binding_id, f"{shown} is reserved: {RESERVED_KEYS[str(key)]}")
            continue
        accepted[binding_id] = keys
    while clash := _first_clash(accepted):
        binding_id, key, other, scope = clash
        refuse(binding_id, f"{key} is also the key of {other} in {scope}")
        del accepted[binding_id]
    return accepted, problems


def _first_clash(keymap: Mapping[str, str]) -> tuple[str, str, str, str] | None:
    """(a rebound binding, its key, the other binding with that key, where), or None."""
    for scope, bindings in KEY_SCOPES.items():
        owners: dict[str | None, str] = {}
        # Rebound bindings last: the clash is then reported on the entry that made it.
        for binding in sorted(bindings, key=lambda b: b.id in keymap):
            assert binding.id is not None
            for key in _keys(keymap.get(binding.id, binding.key)):
                other = owners.setdefault(key, binding.id)
                if other != binding.id:
                    return binding.id, str(key), other, scope
    return None


_KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "asterisk": "*",
    "space": "Space",
    "enter": "Enter",
    "escape": "Esc",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "home": "Home",
    "end": "End",
    "down": "↓",
    "up": "↑",
    "f1": "F1",
}


def key_label(keys: str) -> str:
    """A binding's keys as a person reads them: `question_mark,f1` -> `? F1`."""
    labels = []
    for key in keys.split(","):
        if key.startswith("ctrl+"):
            labels.append("Ctrl+" + key.removeprefix("ctrl+"))
        else:
            labels.append(_KEY_NAMES.get(key, key))
    return " ".join(labels)


def binding_table() -> list[tuple[str, str, str, str]]:
    """(where, keys, id, description) for every binding, for help and documentation."""
    return [
        (where, key_label(binding.key), binding.id or "", binding.tooltip or binding.description)
        for where, bindings in ALL_BINDINGS.items()
        for binding in bindings
    ]


def markdown_key_table() -> str:
    """The README's key table, made from the bindings (a test keeps the README in step)."""
    lines = ["| Where | Keys | Id | What it does |", "|---|---|---|---|"]
    for where, keys, binding_id, description in binding_table():
        shown = keys.replace("|", "\\|")
        lines.append(f"| {where} | `{shown}` | `{binding_id}` | {description} |")
    return "\n".join(lines)
