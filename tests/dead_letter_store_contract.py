"""The behaviour every `DeadLetterStore` promises, as a reusable test suite.

Subclass `DeadLetterStoreContract` in a ``test_*.py`` module and give it a
``make_store`` fixture returning a `StoreFactory`: a callable that builds a
new, empty store and accepts the keyword arguments ``clock``, ``metrics``,
``redact`` and ``secret_keys`` (the built-in stores' own). Each call may
return a fresh store; stores made within one test need not share letters.

    class TestPostgresContract(DeadLetterStoreContract):
        @pytest.fixture
        def make_store(self, engine) -> StoreFactory:
            return lambda **options: SqlDeadLetterStore(engine, **options)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from felix_reliability import DeadLetter, DeadLetterReason, DeadLetterStore
from felix_reliability._dead_letters import mask_letter
from felix_reliability._metrics import DEAD_LETTER_WRITE_FAILURES, Labels
from felix_reliability.exceptions import ConfigurationError, DeadLetterStoreError
from felix_reliability.testing import FakeClock
from tests.strategies_dead_letters import dead_letters

StoreFactory = Callable[..., DeadLetterStore]

BASE = datetime(2026, 1, 1, tzinfo=UTC)
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def make_letter(
    index: int = 0, *, operation: str = "telegram.send_message", **changes: object
) -> DeadLetter:
    """Return a letter created *index* seconds after BASE."""
    moment = BASE + timedelta(seconds=index)
    letter = DeadLetter(
        id=f"letter-{index:06d}",
        operation=operation,
        payload={"chat_id": 42, "text": f"order {index} is ready"},
        reason=DeadLetterReason.RETRIES_EXHAUSTED,
        error_type="httpx.ReadTimeout",
        error_message="read timed out",
        attempts=4,
        first_failure_at=moment,
        last_failure_at=moment,
        created_at=moment,
        context={"requestId": f"req{index}", "orderId": index},
    )
    return attrs.evolve(letter, **changes)


class RecordingMetrics:
    """A MetricsCollector that remembers counter increments."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._lock = threading.Lock()

    def increment(self, name: str, value: float = 1.0, labels: Labels | None = None) -> None:
        key = (name, tuple(sorted((labels or {}).items())))
        with self._lock:
            self.counts[key] = self.counts.get(key, 0.0) + value

    def observe(self, name: str, value: float, labels: Labels | None = None) -> None:
        raise AssertionError("sinks observe no histogram")

    def set_gauge(self, name: str, value: float, labels: Labels | None = None) -> None:
        raise AssertionError("sinks set no gauge")


class DeadLetterStoreContract:
    """Tests every store must pass; subclasses provide the ``make_store`` fixture."""

    @pytest.fixture
    def store(self, make_store: StoreFactory) -> DeadLetterStore:
        return make_store()

    def test_is_a_dead_letter_store(self, store: DeadLetterStore) -> None:
        """The store satisfies the runtime-checkable DeadLetterStore protocol."""
        assert isinstance(store, DeadLetterStore)

    # One store per test serves every example (ids are deleted first); each
    # subclass runs this method on its own store, hence the differing executors.
    @settings(
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors]
    )
    @given(letter=dead_letters)
    def test_put_then_get_round_trips(self, store: DeadLetterStore, letter: DeadLetter) -> None:
        """Any JSON-safe letter comes back from get() equal to its masked self."""
        store.delete(letter.id)  # hypothesis may draw an id again; the store is shared
        store.put(letter)
        assert mask_letter(letter) == store.get(letter.id)

    def test_get_unknown_id_is_none(self, store: DeadLetterStore) -> None:
        """get() answers None for an id it does not hold."""
        assert store.get("no-such-id") is None

    def test_empty_store(self, store: DeadLetterStore) -> None:
        """A new store counts and lists nothing."""
        assert (store.count(), list(store.list())) == (0, [])

    def test_list_is_oldest_first(self, store: DeadLetterStore) -> None:
        """list() orders by created_at, whatever the order of the puts."""
        for index in (3, 1, 2, 0):
            store.put(make_letter(index))
        assert [letter.id for letter in store.list()] == [
            "letter-000000",
            "letter-000001",
            "letter-000002",
            "letter-000003",
        ]

    def test_list_breaks_ties_by_insertion(self, store: DeadLetterStore) -> None:
        """Letters created at the same instant list in the order they were put."""
        for index in (5, 3, 4):
            store.put(make_letter(0, id=f"same-{index}"))
        assert [letter.id for letter in store.list()] == ["same-5", "same-3", "same-4"]

    def test_list_pages_with_limit_and_offset(self, store: DeadLetterStore) -> None:
        """limit and offset page through the letters, oldest first."""
        for index in range(7):
            store.put(make_letter(index))
        pages = [
            [letter.id[-1] for letter in store.list(limit=3, offset=offset)]
            for offset in (0, 3, 6, 9)
        ]
        assert pages == [["0", "1", "2"], ["3", "4", "5"], ["6"], []]

    def test_list_filters_by_operation(self, store: DeadLetterStore) -> None:
        """operation= keeps only that operation's letters, still paged and ordered."""
        for index in range(6):
            store.put(make_letter(index, operation="a" if index % 2 else "b"))
        assert [letter.id for letter in store.list(operation="a", offset=1)] == [
            "letter-000003",
            "letter-000005",
        ]

    @pytest.mark.parametrize(("limit", "offset"), [(-1, 0), (0, -1), (True, 0), (1, 1.5)])
    def test_list_rejects_bad_paging(
        self, store: DeadLetterStore, limit: object, offset: object
    ) -> None:
        """A negative or non-int limit or offset is a configuration error."""
        with pytest.raises(ConfigurationError):
            store.list(limit=limit, offset=offset)  # type: ignore[arg-type]

    def test_count(self, store: DeadLetterStore) -> None:
        """count() is the number of letters held."""
        for index in range(4):
            store.put(make_letter(index))
        assert store.count() == 4

    def test_put_of_a_stored_id_keeps_the_stored_letter(self, store: DeadLetterStore) -> None:
        """Putting an id twice is idempotent: the first letter stays, once."""
        store.put(make_letter(1))
        store.put(make_letter(1, attempts=99))
        assert (store.count(), store.get("letter-000001").attempts) == (1, 4)  # type: ignore[union-attr]

    def test_delete(self, store: DeadLetterStore) -> None:
        """delete() removes the letter and says whether there was one."""
        store.put(make_letter(1))
        assert (
            store.delete("letter-000001"),
            store.delete("letter-000001"),
            store.get("letter-000001"),
        ) == (True, False, None)

    def test_update_replaces_in_place(self, store: DeadLetterStore) -> None:
        """update() replaces the letter and keeps its place in the order."""
        for index in range(3):
            store.put(make_letter(index))
        assert store.update(make_letter(0, replay_count=2))
        assert [letter.replay_count for letter in store.list()] == [2, 0, 0]

    def test_update_of_unknown_id_writes_nothing(self, store: DeadLetterStore) -> None:
        """update() of an id not held returns False and adds nothing."""
        assert (store.update(make_letter(1)), store.count()) == (False, 0)

    def test_purge_everything(self, store: DeadLetterStore) -> None:
        """purge() without older_than deletes every letter and says how many."""
        for index in range(3):
            store.put(make_letter(index))
        assert (store.purge(), store.count()) == (3, 0)

    def test_purge_older_than_a_datetime(self, store: DeadLetterStore) -> None:
        """A datetime is the cutoff: only letters created strictly before it go."""
        for index in range(4):
            store.put(make_letter(index))
        assert store.purge(older_than=BASE + timedelta(seconds=2)) == 2
        assert [letter.id for letter in store.list()] == ["letter-000002", "letter-000003"]

    def test_purge_older_than_a_timedelta(self, make_store: StoreFactory) -> None:
        """A timedelta counts back from the store clock's wall time."""
        clock = FakeClock(wall_start=(BASE + timedelta(days=31)).timestamp())
        store = make_store(clock=clock)
        store.put(make_letter(0))
        store.put(make_letter(0, id="recent", created_at=BASE + timedelta(days=30)))
        assert (
            store.purge(older_than=timedelta(days=30)),
            [letter.id for letter in store.list()],
        ) == (1, ["recent"])

    @pytest.mark.parametrize(
        "older_than",
        [
            timedelta(seconds=-1),
            datetime(2026, 1, 1),  # noqa: DTZ001 - naive on purpose
            "30d",
        ],
    )
    def test_purge_rejects_bad_cutoffs(self, store: DeadLetterStore, older_than: object) -> None:
        """A negative timedelta, a naive datetime or a string is refused."""
        with pytest.raises((ValueError, TypeError)):
            store.purge(older_than=older_than)  # type: ignore[arg-type]

    def test_known_secret_shapes_are_masked(self, store: DeadLetterStore) -> None:
        """Bot tokens and Authorization values never reach the store."""
        store.put(
            make_letter(
                1,
                payload={"url": f"https://api.telegram.org/bot{TOKEN}/sendMessage"},
                error_message=f"POST /bot{TOKEN}/sendMessage: Authorization: Bearer xyz",
                context={"requestId": "r1", "auth": "Bearer abcdef"},
            )
        )
        stored = store.get("letter-000001")
        assert stored is not None
        assert TOKEN not in stored.to_json()
        assert "xyz" not in stored.error_message
        assert "abcdef" not in str(stored.context)

    def test_update_masks_too(self, store: DeadLetterStore) -> None:
        """update() masks the new letter as put() does."""
        store.put(make_letter(1))
        store.update(make_letter(1, payload={"token": "hunter22"}))
        assert store.get("letter-000001").payload == {"token": "[REDACTED]"}  # type: ignore[union-attr]

    def test_configured_keys_and_hook_are_applied(self, make_store: StoreFactory) -> None:
        """secret_keys masks more mapping keys, then the redact hook runs."""
        store = make_store(
            secret_keys=["Phone"],
            redact=lambda letter: attrs.evolve(letter, operation=letter.operation.upper()),
        )
        store.put(make_letter(1, payload={"phone": "+33 6", "text": "hi"}))
        stored = store.get("letter-000001")
        assert stored is not None
        assert (
            stored.payload,
            stored.operation,
        ) == ({"phone": "[REDACTED]", "text": "hi"}, "TELEGRAM.SEND_MESSAGE")

    def test_unserialisable_payload_fails_and_is_counted(self, make_store: StoreFactory) -> None:
        """A payload that is not JSON raises DeadLetterStoreError and counts a write failure."""
        metrics = RecordingMetrics()
        store = make_store(metrics=metrics)
        with pytest.raises(DeadLetterStoreError, match="letter-000001"):
            store.put(make_letter(1, payload={"when": object()}))
        with pytest.raises(DeadLetterStoreError):
            store.update(make_letter(1, payload=float("nan")))
        assert [name for (name, _), value in metrics.counts.items() for _ in range(int(value))] == [
            DEAD_LETTER_WRITE_FAILURES,
            DEAD_LETTER_WRITE_FAILURES,
        ]
        assert store.count() == 0
