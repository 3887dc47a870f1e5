"""The floor for keystroke latency: a bare Textual app with an `Input` and a `Label`.

    .venv/bin/python -m benchmarks.bare_input

The label mirrors the input's value, in brackets, on every `Input.Changed`:
typing `leu` shows `[leu]`. `benchmarks/targets.py` types into it through tmux
and times how long the label takes to show each keystroke, the least any
Textual app can take on this machine and terminal; refdeck's list is
measured against it in the same run.
"""

from __future__ import annotations

from textual import on
from textual.app import App, ComposeResult
from textual.widgets import Input, Label

READY = "bare input ready"
"""What the label shows before the first keystroke (the benchmark waits for it)."""


def mirror(value: str) -> str:
    """What the label shows for the input's value."""
    return f"[{value}]"


class BareInputApp(App[None]):
    """An input and a label that repeats what is typed, nothing else."""

    def compose(self) -> ComposeResult:
        yield Input(id="input")
        yield Label(READY, id="mirror", markup=False)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#mirror", Label).update(mirror(event.value))


if __name__ == "__main__":
    BareInputApp().run()
