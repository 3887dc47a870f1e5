"""The browser's screens."""

from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import RecordDetailScreen
from tui.screens.export import ExportRequest, ExportScreen
from tui.screens.help import HelpScreen
from tui.screens.records import RecordListScreen

__all__ = [
    "ConfirmScreen",
    "ExportRequest",
    "ExportScreen",
    "HelpScreen",
    "RecordDetailScreen",
    "RecordListScreen",
]
