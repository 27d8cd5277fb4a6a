"""Full garbage collections wait for the person to be idle; streaming freezes the heap."""

from __future__ import annotations

import gc
import sys

from tuichat.app import heap
from tuichat.app.heap import AFTER_REPLY, DUE, FORCE, FORCE_AFTER, IDLE, IdleCollector


class World:
    """The collector's view of the app, set by each test."""

    def __init__(self) -> None:
        self.idle = 0.0
        self.busy = False
        self.pending = 0
        self.runs = 0
        self.now = 0.0

    def collector(self) -> IdleCollector:
        def collect() -> None:
            self.runs += 1
            self.pending = 0

        return IdleCollector(
            lambda: self.idle,
            busy=lambda: self.busy,
            pending=lambda: self.pending,
            collect=collect,
            clock=lambda: self.now,
        )


def test_a_due_collection_waits_until_the_person_is_idle() -> None:
    world = World()
    collector = world.collector()
    world.pending = DUE
    world.idle = IDLE / 2
    assert not collector.tick()
    world.idle = IDLE
    assert collector.tick() and world.runs == 1
    assert not collector.tick(), "nothing is due right after one"


def test_nothing_runs_before_it_is_due_or_while_a_reply_streams() -> None:
    world = World()
    collector = world.collector()
    world.idle = 60.0
    world.pending = DUE - 1
    assert not collector.tick()
    world.pending = DUE
    world.busy = True
    assert not collector.tick()
    assert world.runs == 0


def test_a_session_that_never_pauses_still_collects_now_and_then() -> None:
    world = World()
    collector = world.collector()
    world.pending = FORCE
    assert not collector.tick(), "not right after the last one"
    world.now = FORCE_AFTER
    world.busy = True
    assert not collector.tick(), "not while a reply streams"
    world.busy = False
    assert collector.tick() and world.runs == 1
    world.pending = FORCE
    world.now += FORCE_AFTER / 2
    assert not collector.tick()


def test_a_reply_ending_runs_a_due_collection_now_and_then() -> None:
    """A sitting that sends each prompt as a reply ends is never idle, and the periodic
    tick always finds a reply streaming: the end of a reply is its moment."""
    world = World()
    collector = world.collector()
    world.pending = DUE
    assert not collector.after_reply(), "not right after the last one"
    world.now = AFTER_REPLY
    world.busy = True
    assert not collector.after_reply(), "not while another reply streams"
    world.busy = False
    assert collector.after_reply() and world.runs == 1
    world.pending = DUE - 1
    world.now += AFTER_REPLY
    assert not collector.after_reply(), "nothing due"


def test_the_last_reply_ending_asks_the_installed_collector() -> None:
    asked: list[bool] = []
    collector = IdleCollector(lambda: 0.0, pending=lambda: DUE, collect=lambda: asked.append(True))
    collector._last -= AFTER_REPLY
    collector.install()
    try:
        heap.stream_started()
        heap.stream_started()
        heap.stream_ended()
        assert not asked, "one reply still streams"
        heap.stream_ended()
        assert asked == [True]
    finally:
        collector.uninstall()
    heap.stream_started()
    heap.stream_ended()
    assert asked == [True], "an uninstalled collector is not asked"


def test_python_starts_no_full_collection_while_installed() -> None:
    before = gc.get_threshold()
    collector = IdleCollector(lambda: 0.0)
    collector.install()
    try:
        assert gc.get_threshold()[:2] == before[:2]
        assert gc.get_threshold()[2] > 10**6
    finally:
        collector.uninstall()
    assert gc.get_threshold() == before


def test_streaming_freezes_the_heap_and_hands_the_gil_over_more_often() -> None:
    interval = sys.getswitchinterval()
    gc.unfreeze()
    with heap.streaming():
        with heap.streaming():
            assert heap.streaming_replies() == 2
            assert gc.get_freeze_count() > 0
            assert sys.getswitchinterval() <= heap.SWITCH_INTERVAL
        assert gc.get_freeze_count() > 0, "frozen until the last reply ends"
    assert heap.streaming_replies() == 0
    assert gc.get_freeze_count() == 0
    assert sys.getswitchinterval() == interval


def test_a_reply_not_drawn_yet_holds_the_check_until_it_is_or_the_next_one_starts() -> None:
    """The heap thaws as the reply ends; the collection waits for its last lines."""
    asked: list[bool] = []
    collector = IdleCollector(lambda: IDLE, pending=lambda: DUE, collect=lambda: asked.append(True))
    collector._last -= AFTER_REPLY
    collector.install()
    try:
        heap.stream_started()
        heap.stream_ended(drawn=False)
        assert gc.get_freeze_count() == 0, "thawed at once"
        assert not collector.tick(), "nor does the idle tick run it"
        assert not asked
        heap.reply_drawn()
        assert asked == [True]
        heap.reply_drawn()
        assert asked == [True], "once"

        collector._last -= AFTER_REPLY
        heap.stream_started()
        heap.stream_ended(drawn=False)
        heap.stream_started()  # the next prompt went before the last lines were drawn
        assert asked == [True, True], "run before the next reply freezes the heap"
        heap.stream_ended()
    finally:
        collector.uninstall()


def test_a_full_collection_stays_due_across_the_freezes_of_a_sitting(monkeypatch) -> None:
    """``gc.freeze`` sets Python's counts back to 0: with each reply freezing the heap, a
    sitting of short replies never had a full collection due, and never had one."""
    monkeypatch.setattr(heap, "_carried", 0)
    was_enabled = gc.isenabled()
    gc.disable()  # no automatic collection resets the counts meanwhile
    try:
        gc.collect()
        for _ in range(DUE):
            gc.collect(1)
        assert heap.pending_collections() >= DUE
        heap.stream_started()
        try:
            assert gc.get_count()[2] == 0, "what Python itself counts"
            assert heap.pending_collections() >= DUE
        finally:
            heap.stream_ended()
        asked: list[bool] = []
        collector = IdleCollector(lambda: IDLE, collect=lambda: asked.append(True))
        assert collector.tick() and asked == [True]
        assert heap.pending_collections() < DUE, "counted afresh after a full collection"
    finally:
        if was_enabled:
            gc.enable()
