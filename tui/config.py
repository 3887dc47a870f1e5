"""The user's settings: a TOML file in the user config directory.

    theme = "textual-light"
    clipboard = "auto"  # or "tmux", "system", "osc52"
    citation_style = "apa"  # or vancouver, ama, nature, chicago, ieee, harvard, or a .csl file

    [keys]              # binding id = keys (see `refdeck --bindings`)
    open-record = "enter,o"
    quit-list = "q,x"

A bad file never stops refdeck: the problems are reported and the defaults used
(for `[keys]`, entry by entry: `tui.bindings.check_keymap`, which needs Textual).
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_config_path

from tui.clipboard import STRATEGIES
from tui.export import ExportError
from tui.export.citations import DEFAULT_STYLE, STYLES, style_path

APP_NAME = "refdeck"
MAX_CONFIG_BYTES = 1 << 20
"""A config file is a few lines; past 1 MB it is not one (a link to /dev/zero, a log)."""


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
    source: Path | None = None
    """The file these settings were read from (None: the defaults), which messages
    about them name: the browser checks `keys` against its bindings at start."""


def config_path() -> Path:
    """Where the config file lives; tests point this elsewhere."""
    return user_config_path(APP_NAME, appauthor=False) / "config.toml"


def load_config(path: Path | None = None) -> tuple[Config, list[str]]:
    """Read the config file; returns the settings and a list of problems found (never raises)."""
    path = path or config_path()
    try:
        data = tomllib.loads(_read(path).decode("utf-8"))
    except FileNotFoundError:
        return Config(), []
    except NotAConfigFile as error:
        return Config(), [f"{path}: {error}; using the defaults"]
    except OSError as error:
        return Config(), [f"{path}: cannot be read ({error.strerror or error}); using the defaults"]
    except UnicodeDecodeError as error:
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
    config = Config(
        theme=theme, keys=keys, clipboard=clipboard, citation_style=citation_style, source=path
    )
    return config, problems


class NotAConfigFile(Exception):
    """The path is not a regular file of a config file's size; the message says what it is."""


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _read(path: Path) -> bytes:
    """The bytes of the config file, which must be a regular file of at most `MAX_CONFIG_BYTES`.

    Opened with O_NONBLOCK, so that a FIFO does not block the open (and the start)
    waiting for a writer; what was opened is then checked with fstat, so a link to
    /dev/zero is refused before a byte is read. The read is bounded too: a regular
    file may grow, or be a /proc file that says it is empty.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
            real = os.path.realpath(path)
            leads = f" (a link to {real})" if real != os.path.abspath(path) else ""
            raise NotAConfigFile(f"is {kind}{leads}, not a regular file")
        chunks, size = [], 0
        while size <= MAX_CONFIG_BYTES:
            chunk = os.read(fd, MAX_CONFIG_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_CONFIG_BYTES:
            raise NotAConfigFile(
                f"is larger than {MAX_CONFIG_BYTES >> 20} MB, too large for settings"
            )
        return b"".join(chunks)
    finally:
        os.close(fd)


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
