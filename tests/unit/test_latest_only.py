"""The search thread: only the newest query is answered, and a failure stops nothing."""

from __future__ import annotations

import threading

from tui.screens.latest import LatestOnly


def test_jobs_superseded_while_one_runs_are_dropped() -> None:
    ran: list[int] = []
    release, started, done = threading.Event(), threading.Event(), threading.Event()
    runner = LatestOnly("test", on_error=lambda error: None)

    def first() -> None:
        started.set()
        release.wait(5)
        ran.append(0)

    runner.submit(first)
    assert started.wait(5)
    for n in (1, 2, 3):
        runner.submit(lambda n=n: ran.append(n))
    runner.submit(lambda: (ran.append(4), done.set()))
    release.set()
    assert done.wait(5)
    assert ran == [0, 4]
    runner.close()


def test_a_failing_job_is_reported_and_the_next_one_runs() -> None:
    errors: list[Exception] = []
    done = threading.Event()
    runner = LatestOnly("test", on_error=errors.append)
    runner.submit(lambda: 1 / 0)  # type: ignore[func-returns-value]
    for _ in range(500):
        if errors:
            break
        threading.Event().wait(0.01)
    runner.submit(done.set)
    assert done.wait(5)
    assert [type(e) for e in errors] == [ZeroDivisionError]
    runner.close()


def test_a_closed_runner_runs_nothing_more() -> None:
    ran: list[int] = []
    runner = LatestOnly("test", on_error=lambda error: None)
    runner.close()
    runner.submit(lambda: ran.append(1))
    threading.Event().wait(0.05)
    assert ran == []
