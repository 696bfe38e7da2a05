"""replay_dead_letters: accept, refuse, skip, pace, stop at an open circuit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from felix_reliability import (
    DeadLetter,
    DeadLetterReason,
    MemoryDeadLetterStore,
    ReplayReport,
    replay_dead_letters,
)
from felix_reliability._replay import DEFAULT_PENDING_GRACE, is_replaying
from felix_reliability.exceptions import CircuitOpenError, ConfigurationError
from felix_reliability.testing import FakeClock
from tests.dead_letter_store_contract import BASE, make_letter


def filled(count: int, **changes: object) -> MemoryDeadLetterStore:
    """Return a memory store holding *count* letters, one second apart."""
    store = MemoryDeadLetterStore()
    for index in range(count):
        store.put(make_letter(index, **changes))
    return store


def late_clock() -> FakeClock:
    """A clock one day after the letters were created."""
    return FakeClock(wall_start=(BASE + timedelta(days=1)).timestamp())


def test_accepted_letters_are_deleted() -> None:
    """A handler that returns accepts the letter: it is reported and deleted."""
    store = filled(3)
    seen: list[str] = []
    report = replay_dead_letters(store, lambda letter: seen.append(letter.id), clock=late_clock())
    ids = ["letter-000000", "letter-000001", "letter-000002"]
    assert (ReplayReport(replayed=ids), ids, 0) == (report, seen, store.count())


def test_refused_letters_stay_with_one_more_replay() -> None:
    """A handler that raises refuses the letter: it stays with replay_count + 1."""
    store = filled(2)

    def refuse_first(letter: DeadLetter) -> None:
        if letter.id == "letter-000000":
            raise TimeoutError("still down")

    report = replay_dead_letters(store, refuse_first, clock=late_clock())
    assert (report.replayed, report.failed) == (["letter-000001"], ["letter-000000"])
    assert [letter.replay_count for letter in store.list()] == [1]


def test_letters_past_max_replays_are_skipped() -> None:
    """Letters refused max_replays times are not offered again."""
    store = filled(2, replay_count=2)
    store.update(make_letter(1, replay_count=1))
    report = replay_dead_letters(store, lambda _: None, max_replays=2, clock=late_clock())
    assert (report.replayed, report.skipped) == (["letter-000001"], ["letter-000000"])


def test_replay_stops_at_the_first_open_circuit() -> None:
    """CircuitOpenError ends the replay; that letter and the rest are untouched."""
    store = filled(4)
    calls: list[str] = []

    def handler(letter: DeadLetter) -> None:
        calls.append(letter.id)
        if letter.id == "letter-000001":
            raise CircuitOpenError("telegram", 30.0)

    report = replay_dead_letters(store, handler, clock=late_clock())
    assert (ReplayReport(replayed=["letter-000000"], circuit_open=True), 2) == (report, len(calls))
    assert [letter.replay_count for letter in store.list()] == [0, 0, 0]


def test_rate_paces_the_handler() -> None:
    """rate=2 waits half a second between letters, on the clock."""
    clock = late_clock()
    replay_dead_letters(filled(4), lambda _: clock.advance(0.1), rate=2.0, clock=clock)
    assert [pytest.approx(0.4)] * 3 == clock.sleeps


def test_no_rate_never_sleeps() -> None:
    """Without rate nothing waits."""
    clock = late_clock()
    replay_dead_letters(filled(3), lambda _: None, clock=clock)
    assert clock.sleeps == []


def test_slow_handler_needs_no_pacing_sleep() -> None:
    """When the handler itself takes longer than the interval, no sleep is added."""
    clock = late_clock()
    replay_dead_letters(filled(3), lambda _: clock.advance(1.0), rate=2.0, clock=clock)
    assert clock.sleeps == []


def test_limit_caps_the_handler_calls() -> None:
    """limit= offers at most that many letters."""
    store = filled(5)
    report = replay_dead_letters(store, lambda _: None, limit=2, clock=late_clock())
    assert (len(report.replayed), store.count()) == (2, 3)


def test_operation_filter() -> None:
    """operation= replays only that operation's letters."""
    store = filled(2)
    store.put(make_letter(5, operation="mail.send"))
    report = replay_dead_letters(store, lambda _: None, operation="mail.send", clock=late_clock())
    assert (report.replayed, store.count()) == (["letter-000005"], 2)


def test_young_pending_letters_are_skipped() -> None:
    """A pending letter younger than the grace period may still be in flight: skipped."""
    store = filled(2, reason=DeadLetterReason.PENDING)
    clock = FakeClock(wall_start=(BASE + timedelta(seconds=1 + 60)).timestamp())
    report = replay_dead_letters(store, lambda _: None, pending_grace=60.5, clock=clock)
    assert (report.replayed, report.skipped) == (["letter-000000"], ["letter-000001"])


def test_old_pending_letters_are_replayed_after_the_default_grace() -> None:
    """With the default grace, a pending letter older than it is replayed."""
    store = filled(1, reason=DeadLetterReason.PENDING)
    clock = FakeClock(wall_start=BASE.timestamp() + DEFAULT_PENDING_GRACE)
    report = replay_dead_letters(store, lambda _: None, clock=clock)
    assert report.replayed == ["letter-000000"]


def test_the_replay_flag_is_set_only_inside_the_handler() -> None:
    """is_replaying() is True in the handler, False before and after, even on errors."""
    flags: list[bool] = []

    def handler(letter: DeadLetter) -> None:
        flags.append(is_replaying())
        raise RuntimeError("refused")

    replay_dead_letters(filled(2), handler, clock=late_clock())
    assert (flags, is_replaying()) == ([True, True], False)


def test_many_letters_are_paged() -> None:
    """More letters than one page are all offered; refused ones do not hide later ones."""
    store = filled(250)

    def refuse_odd(letter: DeadLetter) -> None:
        if int(letter.id[-3:]) % 2:
            raise ValueError("odd")

    report = replay_dead_letters(store, refuse_odd, clock=late_clock())
    assert (len(report.replayed), len(report.failed), store.count()) == (125, 125, 125)


def test_progress_is_called_after_each_letter() -> None:
    """progress receives the report so far after every letter."""
    counts: list[int] = []
    replay_dead_letters(
        filled(3),
        lambda _: None,
        clock=late_clock(),
        progress=lambda report: counts.append(len(report.replayed)),
    )
    assert counts == [1, 2, 3]


def test_the_system_clock_is_the_default() -> None:
    """Without a clock the replay runs on the system clock."""
    assert len(replay_dead_letters(filled(1), lambda _: None).replayed) == 1


def test_keyboard_interrupt_is_not_a_refusal() -> None:
    """A BaseException that is not an Exception propagates and leaves the letter."""
    store = filled(1)

    def interrupt(letter: DeadLetter) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replay_dead_letters(store, interrupt, clock=late_clock())
    assert ([letter.replay_count for letter in store.list()], is_replaying()) == ([0], False)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("limit", -1),
        ("limit", True),
        ("max_replays", -1),
        ("max_replays", 1.5),
        ("rate", 0),
        ("pending_grace", -1),
    ],
)
def test_bad_options_name_the_parameter(option: str, value: object) -> None:
    """Each out-of-range option raises ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match=option):
        replay_dead_letters(MemoryDeadLetterStore(), lambda _: None, **{option: value})  # type: ignore[arg-type]
