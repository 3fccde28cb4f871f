"""WorkQueue: one pending entry per key, delays, one worker per key, and backoff that
watch events cannot bypass."""

from __future__ import annotations

import asyncio

import pytest

from arcdesk.engine.workqueue import Backoff, WorkQueue


async def _get(queue: WorkQueue[str], timeout: float = 0.05) -> str | None:
    try:
        return await asyncio.wait_for(queue.get(), timeout)
    except TimeoutError:
        return None


def test_a_burst_of_adds_is_one_reconcile() -> None:
    async def scenario() -> list[str | None]:
        queue: WorkQueue[str] = WorkQueue()
        for _ in range(5):
            queue.add("seat-1")
        assert len(queue) == 1
        return [await _get(queue), await _get(queue)]

    assert asyncio.run(scenario()) == ["seat-1", None]


def test_a_delayed_key_waits_and_the_earlier_due_time_wins() -> None:
    async def scenario() -> tuple[str | None, str | None, str | None]:
        queue: WorkQueue[str] = WorkQueue()
        queue.add("late", delay=0.2)
        early = await _get(queue, 0.05)
        due = await _get(queue, 0.5)
        queue.add("moved", delay=60)
        queue.add("moved", delay=0)
        return early, due, await _get(queue)

    assert asyncio.run(scenario()) == (None, "late", "moved")


def test_a_key_is_never_handed_to_two_workers_at_once() -> None:
    async def scenario() -> tuple[str | None, str | None]:
        queue: WorkQueue[str] = WorkQueue()
        queue.add("seat-1")
        key = await queue.get()
        queue.add("seat-1")  # a watch event while a worker reconciles it
        while_busy = await _get(queue)
        queue.done(key)
        return while_busy, await _get(queue)

    assert asyncio.run(scenario()) == (None, "seat-1")


def test_a_failed_key_backs_off_even_when_events_keep_coming() -> None:
    async def scenario() -> tuple[str | None, str | None]:
        queue: WorkQueue[str] = WorkQueue(Backoff(base=0.3, cap=10))
        queue.add("seat-1")
        queue.done(await queue.get(), failed=True)
        queue.add("seat-1")  # e.g. its own status changed
        during_backoff = await _get(queue, 0.1)
        return during_backoff, await _get(queue, 0.5)

    assert asyncio.run(scenario()) == (None, "seat-1")


def test_success_clears_the_backoff_and_requeues_when_asked() -> None:
    async def scenario() -> tuple[int, str | None]:
        queue: WorkQueue[str] = WorkQueue(Backoff(base=5, cap=10))
        queue.add("course")
        queue.done(await queue.get(), failed=True)
        failures = queue.backoff.failures("course")
        queue.forget("course")
        queue.add("course")
        queue.done(await queue.get(), requeue_after=0.05)  # e.g. the next schedule boundary
        return failures, await _get(queue, 0.5)

    assert asyncio.run(scenario()) == (1, "course")


@pytest.mark.parametrize(("failures", "delay"), [(1, 1.0), (2, 2.0), (3, 4.0), (7, 60.0),
                                                 (100, 60.0)])
def test_backoff_doubles_up_to_its_cap(failures: int, delay: float) -> None:
    backoff: Backoff[str] = Backoff(base=1.0, cap=60.0)
    delays = [backoff.failure("k") for _ in range(failures)]
    assert delays[-1] == delay


def test_stalled_counts_due_work_while_no_worker_moves() -> None:
    """What the operator's liveness reads: due work with no key taken or finished meanwhile
    means stuck workers; slow but moving workers, a key being worked on, or one waiting out
    its backoff, are not a stall."""
    now = [100.0]

    async def scenario() -> list[float]:
        queue: WorkQueue[str] = WorkQueue(Backoff(base=50), clock=lambda: now[0])
        seen = [queue.stalled_for()]
        queue.add("taken")
        queue.add("left")
        assert await _get(queue) == "taken"
        now[0] += 30
        seen.append(queue.stalled_for())  # "left" waited 30 s and nobody moved
        queue.done("taken")
        seen.append(queue.stalled_for())  # a worker finished: moving again
        assert await _get(queue) == "left"
        queue.done("left", failed=True)  # gated for 50 s: not waiting
        queue.add("later", delay=10)  # not due yet
        seen.append(queue.stalled_for())
        return seen

    assert asyncio.run(scenario()) == [0.0, 30.0, 0.0, 0.0]
