"""The user's settings: a TOML file in the user config directory.

    theme = "textual-light"
    clipboard = "auto"  # or "tmux", "system", "osc52"
    citation_style = "apa"  # or vancouver, ama, nature, chicago, ieee, harvard, or a .csl file

    [keys]              # binding id = keys (see `refdeck --bindings`)
    open-record = "enter,o"
    quit-list = "q,x"

A bad file never stops refdeck: the problems are reported and the defaults used.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_config_path

from tui.clipboard import STRATEGIES
from tui.export import ExportError
from tui.export.citations import DEFAULT_STYLE, STYLES, style_path

APP_NAME = "refdeck"


@dataclass(frozen=True)
class Config:
    """Settings, with their defaults."""

    theme: str = "textual-dark"
    """A Textual theme name (e.g. "nord", "gruvbox", "textual-light")."""
    keys: dict[str, str] = field(default_factory=dict)
    """Binding id -> comma-separated keys, overriding the defaults."""
    clipboard: str = "auto"
    """How to copy: "auto" (tmux, then the system clipboard, then OSC 52), "tmux", "system" or "osc52"."""
    citation_style: str = DEFAULT_STYLE
    """The style `c` copies citations in and the export dialog starts with: a name in
    `tui.export.citations.STYLES`, or the absolute path of a `.csl` file."""


def config_path() -> Path:
    """Where the config file lives; tests point this elsewhere."""
    return user_config_path(APP_NAME, appauthor=False) / "config.toml"


def load_config(path: Path | None = None) -> tuple[Config, list[str]]:
    """Read the config file; returns the settings and a list of problems found (never raises)."""
    path = path or config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config(), []
    except (OSError, UnicodeDecodeError) as error:
        return Config(), [f"{path}: cannot be read ({error}); using the defaults"]
    except tomllib.TOMLDecodeError as error:
        return Config(), [f"{path}: not valid TOML ({error}); using the defaults"]
    problems: list[str] = []
    theme = data.pop("theme", Config.theme)
    if not isinstance(theme, str):
        problems.append(f"{path}: 'theme' must be a string; using {Config.theme!r}")
        theme = Config.theme
    clipboard = data.pop("clipboard", Config.clipboard)
    if clipboard not in STRATEGIES:
        problems.append(f"{path}: 'clipboard' must be one of {', '.join(STRATEGIES)}; using auto")
        clipboard = Config.clipboard
    citation_style, problem = _citation_style(data.pop("citation_style", DEFAULT_STYLE), path)
    if problem:
        problems.append(problem)
    keys: dict[str, str] = {}
    raw_keys = data.pop("keys", {})
    if not isinstance(raw_keys, dict):
        problems.append(f'{path}: [keys] must be a table of binding id = "keys"')
        raw_keys = {}
    for binding_id, value in raw_keys.items():
        if isinstance(value, str) and value.strip():
            keys[binding_id] = value.replace(" ", "")
        else:
            problems.append(f'{path}: keys.{binding_id} must be a string like "ctrl+o"')
    for unknown in data:
        problems.append(f"{path}: unknown setting {unknown!r} ignored")
    config = Config(theme=theme, keys=keys, clipboard=clipboard, citation_style=citation_style)
    return config, problems


def _citation_style(value: object, path: Path) -> tuple[str, str | None]:
    """The configured style as a style name or an absolute `.csl` path, and a problem if any.

    Checked here, at start, so that a typo is reported once, naming the config
    file, instead of failing every `c` later. A relative path is read from the
    config file's folder, where the user wrote it, not from wherever refdeck starts.
    """
    expected = f"a style name ({', '.join(STYLES)}) or the path of a .csl file"
    if not isinstance(value, str) or not value.strip():
        return DEFAULT_STYLE, f"{path}: 'citation_style' must be {expected}; using {DEFAULT_STYLE}"
    name = value.strip()
    if name.lower() in STYLES:
        return name.lower(), None
    file = Path(name).expanduser()
    if not file.is_absolute():
        file = path.parent / file
    try:
        return str(style_path(str(file))), None  # the export's own rule for a usable file
    except ExportError:
        pass
    return (
        DEFAULT_STYLE,
        f"{path}: citation_style {name!r} is not {expected} that exists; using {DEFAULT_STYLE}",
    )
