"""A thread that runs only the newest of the jobs given to it.

Search as you type asks a question per keystroke and wants only the answer
to the last one. A Textual thread worker per keystroke costs a new thread
and three state-change messages on the UI thread (about 3 ms before the
query even starts, measured through tmux at 100,000 records); one
long-lived thread that drops the jobs superseded while it was busy costs a
condition variable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

Job = Callable[[], None]


class LatestOnly:
    """Runs the newest job submitted, one at a time, on its own daemon thread."""

    def __init__(self, name: str, on_error: Callable[[Exception], None]) -> None:
        self._name = name
        self._on_error = on_error
        """Called (on the thread) with whatever a job raised: the thread goes on."""
        self._job: Job | None = None
        self._closed = False
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._running = False

    @property
    def busy(self) -> bool:
        """True while a job runs or waits (tests wait for the answer with this)."""
        with self._ready:
            return self._running or self._job is not None

    def submit(self, job: Job) -> None:
        """Run `job` once the current one is done, instead of any job still waiting."""
        with self._ready:
            if self._closed:
                return
            self._job = job
            self._ready.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Drop any waiting job and let the thread end after the current one."""
        with self._ready:
            self._closed = True
            self._job = None
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while (job := self._job) is None:
                    if self._closed:
                        return
                    self._ready.wait()
                self._job = None
                self._running = True
            try:
                job()
            except Exception as error:  # noqa: BLE001 - reported, and the next job still runs
                self._on_error(error)
            finally:
                with self._ready:
                    self._running = False
