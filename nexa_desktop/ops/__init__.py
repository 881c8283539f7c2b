"""Background work without Qt: a task-state object (progress, status, cancel, partial results)
and the single database writer. The UI adapts these in ``ui.ops``; the CLI uses them directly."""

from nexa_desktop.ops.task import Cancelled, TaskState
from nexa_desktop.ops.writer import DbWriter

__all__ = ["Cancelled", "DbWriter", "TaskState"]
