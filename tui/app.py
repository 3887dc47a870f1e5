"""The browser application."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual import work
from textual.app import App, SystemCommand
from textual.screen import Screen

from tui.bindings import ALL_BINDINGS, APP_BINDINGS
from tui.clipboard import copy_text
from tui.config import Config
from tui.normalize import strip_controls
from tui.screens.help import HelpScreen
from tui.screens.records import RecordListScreen
from tui.store import RecordStore


class BibApp(App[int]):
    """refdeck's browser: a searchable list of records and a detail screen."""

    CSS_PATH = "app.tcss"
    BINDINGS = APP_BINDINGS
    TITLE = "refdeck"

    def __init__(
        self,
        store: RecordStore,
        config: Config | None = None,
        config_problems: Iterable[str] = (),
        initial_query: str = "",
        import_problems: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.store = store
        self.config = config or Config()
        self._problems = list(config_problems)
        self._initial_query = initial_query
        self._import_problems = list(import_problems)

    def on_mount(self) -> None:
        self._apply_config()
        self.push_screen(RecordListScreen(self.store, self._initial_query))
        for problem in self._problems:
            self.notify(problem, title="Config", severity="error", timeout=10, markup=False)
        if self._import_problems:
            count = len(self._import_problems)
            shown = "\n".join(self._import_problems[:3])
            more = f"\n…and {count - 3} more" if count > 3 else ""
            self.notify(
                f"{shown}{more}\n(listed again when you quit)",
                title=f"{count} entr{'y' if count == 1 else 'ies'} not imported",
                severity="warning",
                timeout=12,
                markup=False,
            )

    def _apply_config(self) -> None:
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme
        else:
            self._problems.append(
                f"unknown theme {self.config.theme!r}; themes: {', '.join(sorted(self.available_themes))}"
            )
        known = {b.id for bindings in ALL_BINDINGS.values() for b in bindings if b.id}
        keymap = {}
        for binding_id, keys in self.config.keys.items():
            if binding_id in known:
                keymap[binding_id] = keys
            else:
                self._problems.append(
                    f"unknown binding id {binding_id!r} in [keys] (see refdeck --bindings)"
                )
        if keymap:
            self.set_keymap(keymap)

    def copy_dois(self, dois: Sequence[str], missing: int, as_url: bool) -> None:
        """Copy DOIs (one a line), or say clearly why nothing was copied.

        `missing` counts the records asked for that have no DOI.
        """
        if not dois:
            what = "This record has" if missing <= 1 else "None of the marked records has"
            self.notify(f"{what} no DOI; nothing was copied.", severity="warning", markup=False)
            return
        text = "\n".join(f"https://doi.org/{doi}" if as_url else doi for doi in dois)
        label = text if len(dois) == 1 else f"{len(dois)} DOIs"
        if missing:
            label += f" ({missing} marked without a DOI left out)"
        self._copy(text, label)

    @work(thread=True, group="copy", description="Copy to a clipboard")
    def _copy(self, text: str, label: str) -> None:
        # A clipboard helper may take up to its timeout: never on the UI thread.
        def osc52(value: str) -> None:
            self.call_from_thread(self.copy_to_clipboard, value)

        result = copy_text(
            strip_controls(text), strip_controls(label), osc52, self.config.clipboard
        )
        self.call_from_thread(
            self.notify,
            result.message,
            severity="information" if result.ok else "warning",
            markup=False,
        )

    def action_help(self) -> None:
        """Show every key and the query syntax."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette lists every action of the screen, calling the same code as its key."""
        yield from super().get_system_commands(screen)
        seen = set()
        for binding in [*APP_BINDINGS, *getattr(screen, "BINDINGS", [])]:
            if (
                not hasattr(binding, "id")
                or binding.id in seen
                or binding.action.startswith("app.quit")
            ):
                continue
            seen.add(binding.id)
            action = binding.action
            target = self if action.startswith("app.") else screen
            method = getattr(target, f"action_{action.removeprefix('app.')}", None)
            if method is not None:
                yield SystemCommand(
                    binding.description, binding.tooltip or binding.description, method
                )
