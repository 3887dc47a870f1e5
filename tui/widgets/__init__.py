"""The browser's widgets."""

from tui.widgets.record_table import RecordTable
from tui.widgets.record_view import RecordView

__all__ = ["RecordTable", "RecordView"]
