"""The project's promises about itself: layering, docs in step with code, lint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tui.bindings import ALL_BINDINGS, markdown_key_table
from tui.query import markdown_query_table

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(name: str) -> str:
    match = re.search(rf"<!-- {name} -->\n(.*?)\n<!-- /{name} -->", README, re.S)
    assert match, f"README has no {name} section"
    return match.group(1)


def test_readme_key_table_matches_the_bindings() -> None:
    """The README's key table is exactly what the binding definitions say."""
    assert _section("key-table") == markdown_key_table()


def test_readme_query_table_matches_the_engine() -> None:
    """The README's query table is exactly the engine's syntax list."""
    assert _section("query-table") == markdown_query_table()


def test_binding_ids_are_unique() -> None:
    """Every binding has an id, and no two share one (the config's [keys] relies on it)."""
    ids = [b.id for bindings in ALL_BINDINGS.values() for b in bindings]
    assert None not in ids
    assert len(ids) == len(set(ids))


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_second() -> None:
    """Set-up is two commands; .ci/run takes its test command from the README."""
    setup = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", setup, re.S)
    assert len(commands) == 2
    assert "refdeck sample_records/" in commands[0]
    assert "[test]" in commands[1] and "pytest" in commands[1]
    assert "ci:test-command" in (ROOT / ".ci" / "run").read_text()


def test_layering_contracts() -> None:
    """Only the store imports tinydb; the core imports nothing from Textual."""
    linter = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(linter) if linter.exists() else "lint-imports"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_is_clean() -> None:
    """The code passes the project's lint rules."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "tui", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout


def test_reliability_doc_names_tests_that_exist() -> None:
    """docs/RELIABILITY.md ties each promise to a test: every test it names must exist."""

    root = Path(__file__).parents[2]
    doc = (root / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    references = set(re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", doc))
    assert len(references) >= 15
    for path, test in references:
        source = (root / path).read_text(encoding="utf-8")
        assert not test or re.search(rf"def {test}\(", source), f"{path}::{test}"
