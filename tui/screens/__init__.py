"""The browser's screens."""

from tui.screens.detail import RecordDetailScreen
from tui.screens.help import HelpScreen
from tui.screens.records import RecordListScreen

__all__ = ["HelpScreen", "RecordDetailScreen", "RecordListScreen"]
