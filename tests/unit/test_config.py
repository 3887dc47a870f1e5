"""The config file's citation_style setting: checked once, at start, never fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.config import Config, load_config


def write(folder: Path, text: str) -> Path:
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_citation_style_defaults_to_apa(tmp_path: Path) -> None:
    """No setting: APA."""
    config, problems = load_config(write(tmp_path, 'theme = "nord"\n'))
    assert config.citation_style == "apa" == Config().citation_style
    assert problems == []


@pytest.mark.parametrize("name", ["vancouver", "IEEE", " harvard "])
def test_citation_style_by_name(tmp_path: Path, name: str) -> None:
    """A shipped style's name, in any case."""
    config, problems = load_config(write(tmp_path, f'citation_style = "{name}"\n'))
    assert config.citation_style == name.strip().lower()
    assert problems == []


def test_citation_style_by_path_absolute_or_next_to_the_config(tmp_path: Path) -> None:
    """A .csl file by absolute path, or relative to the config file's folder."""
    style = tmp_path / "styles" / "mine.csl"
    style.parent.mkdir()
    style.write_text("<style/>")
    config, problems = load_config(write(tmp_path, f'citation_style = "{style}"\n'))
    assert (config.citation_style, problems) == (str(style), [])
    config, problems = load_config(write(tmp_path, 'citation_style = "styles/mine.csl"\n'))
    assert (config.citation_style, problems) == (str(style), [])


@pytest.mark.parametrize(
    "value",
    ['"harvad"', '"missing.csl"', '"styles"', "3", '""'],
    ids=["typo", "missing-file", "not-a-csl-file", "not-a-string", "empty"],
)
def test_bad_citation_style_is_reported_and_apa_used(tmp_path: Path, value: str) -> None:
    """Anything else: a problem naming the config file, and the default style."""
    (tmp_path / "styles").mkdir()
    path = write(tmp_path, f"citation_style = {value}\n")
    config, problems = load_config(path)
    assert config.citation_style == "apa"
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: ")
    assert "citation_style" in problems[0] and "using apa" in problems[0]
