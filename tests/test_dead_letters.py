"""Dead letters: the record, masking, the logging and JSONL sinks, the memory store, URLs."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import types
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest
from hypothesis import given

from felix_reliability import (
    DeadLetter,
    DeadLetterReason,
    DeadLetterSink,
    JsonlDeadLetterSink,
    LoggingDeadLetterSink,
    MemoryDeadLetterStore,
    SQLiteDeadLetterStore,
    bind_context,
    open_dead_letter_store,
    read_jsonl_letters,
)
from felix_reliability._dead_letters import SCHEMA_VERSION, mask_letter
from felix_reliability._metrics import DEAD_LETTER_WRITE_FAILURES
from felix_reliability.exceptions import ConfigurationError, DeadLetterStoreError
from felix_reliability.testing import FakeClock
from tests.dead_letter_store_contract import (
    TOKEN,
    DeadLetterStoreContract,
    RecordingMetrics,
    StoreFactory,
    make_letter,
)
from tests.strategies_dead_letters import dead_letters, secretish_letters

SRC = str(Path(__file__).parents[1] / "src")
ROOT = str(Path(__file__).parents[1])


class TestMemoryStoreContract(DeadLetterStoreContract):
    """MemoryDeadLetterStore keeps the store contract."""

    @pytest.fixture
    def make_store(self) -> StoreFactory:
        return MemoryDeadLetterStore


# -- the record ----------------------------------------------------------------------------


def test_create_fills_id_timestamps_and_error() -> None:
    """create() makes a fresh id, stamps now from the clock and keeps the exception."""
    clock = FakeClock(wall_start=1_767_225_600.5)
    letter = DeadLetter.create(
        operation="telegram.send_message",
        payload={"chat_id": 1},
        reason="retries_exhausted",
        exception=ConfigurationError("bad"),
        attempts=3,
        clock=clock,
    )
    now = datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
    assert (32, now, now, now, "felix_reliability.exceptions.ConfigurationError", "bad") == (
        len(letter.id),
        letter.created_at,
        letter.first_failure_at,
        letter.last_failure_at,
        letter.error_type,
        letter.error_message,
    )
    assert (
        letter.reason,
        letter.attempts,
        letter.replay_count,
        letter.schema_version,
    ) == (DeadLetterReason.RETRIES_EXHAUSTED, 3, 0, SCHEMA_VERSION)


def test_create_gives_each_letter_its_own_id() -> None:
    """Two letters built alike have different ids."""
    first, second = (
        DeadLetter.create(operation="op", payload=None, reason="pending") for _ in range(2)
    )
    assert first.id != second.id


def test_create_captures_the_correlation_context() -> None:
    """The letter carries requestId and the bound fields."""
    with bind_context(request_id="req-1", orderId=123):
        letter = DeadLetter.create(operation="op", payload=None, reason="pending")
    assert letter.context == {"requestId": "req-1", "orderId": 123}


def test_create_takes_an_explicit_context_and_first_failure() -> None:
    """context= and first_failure_at= override the defaults; no exception leaves blanks."""
    first = datetime(2025, 1, 1, tzinfo=UTC)
    letter = DeadLetter.create(
        operation="op",
        payload=None,
        reason=DeadLetterReason.PENDING,
        context={"orderId": 7},
        first_failure_at=first,
        clock=FakeClock(),
    )
    assert ({"orderId": 7}, first, "", "") == (
        letter.context,
        letter.first_failure_at,
        letter.error_type,
        letter.error_message,
    )


def test_builtin_exception_type_is_unqualified() -> None:
    """A builtin exception is named without its module."""
    letter = DeadLetter.create(
        operation="op", payload=None, reason="permanent_error", exception=KeyError("x")
    )
    assert letter.error_type == "KeyError"


def test_timestamps_are_converted_to_utc() -> None:
    """An aware timestamp in another zone is stored as the same instant in UTC."""
    paris = datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    letter = make_letter(created_at=paris)
    assert (datetime(2026, 1, 1, tzinfo=UTC), UTC) == (
        letter.created_at,
        letter.created_at.tzinfo,
    )


def test_naive_timestamps_are_refused() -> None:
    """A naive datetime is a configuration error naming the problem."""
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        make_letter(created_at=datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose


def test_non_datetime_timestamps_are_refused() -> None:
    """A timestamp that is not a datetime is a TypeError."""
    with pytest.raises(TypeError, match="datetimes"):
        make_letter(created_at="2026-01-01")


def test_unknown_reason_is_refused() -> None:
    """A reason outside DeadLetterReason lists the choices."""
    with pytest.raises(ConfigurationError, match="retries_exhausted"):
        make_letter(reason="lost")


@given(letter=dead_letters)
def test_json_round_trip(letter: DeadLetter) -> None:
    """Any JSON-safe payload and unicode context survive to_json/from_json."""
    assert letter == DeadLetter.from_json(letter.to_json())


@given(letter=dead_letters)
def test_to_json_is_the_json_of_to_dict(letter: DeadLetter) -> None:
    """The hand-assembled to_json() is exactly the compact JSON encoding of to_dict()."""
    expected = json.dumps(letter.to_dict(), ensure_ascii=False, separators=(",", ":"))
    assert expected == letter.to_json()


def test_json_is_one_line_with_iso_timestamps() -> None:
    """to_json() writes one line; timestamps are ISO 8601 with the UTC offset."""
    text = make_letter(1).to_json()
    assert "\n" not in text
    assert '"created_at":"2026-01-01T00:00:01+00:00"' in text


def test_to_json_refuses_what_json_cannot_hold() -> None:
    """A non-JSON payload raises TypeError, NaN raises ValueError."""
    with pytest.raises(TypeError):
        make_letter(payload={1, 2}).to_json()
    with pytest.raises(ValueError):
        make_letter(payload=float("inf")).to_json()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1]", "not an object"),
        ("{}", "missing field 'schema_version'"),
        ('{"schema_version": 99}', "newer"),
        ('{"schema_version": true}', "must be a int"),
        ("not json", "Expecting value"),
    ],
)
def test_from_json_refuses_what_is_not_a_letter(text: str, message: str) -> None:
    """from_json raises ValueError with the reason for anything but a letter."""
    with pytest.raises(ValueError, match=message):
        DeadLetter.from_json(text)


def test_from_json_refuses_a_bad_field() -> None:
    """A field of the wrong type is named; a bad timestamp is a ValueError too."""
    data = make_letter(1).to_dict()
    with pytest.raises(ValueError, match="'attempts' must be a int"):
        DeadLetter.from_dict({**data, "attempts": "4"})
    with pytest.raises(ValueError, match="not a dead letter"):
        DeadLetter.from_dict({**data, "created_at": "yesterday"})
    with pytest.raises(ValueError, match="missing field 'payload'"):
        DeadLetter.from_dict({key: value for key, value in data.items() if key != "payload"})


# -- masking ---------------------------------------------------------------------------------


def test_mask_letter_masks_payload_error_and_context() -> None:
    """Token shapes, Bearer values and secret keys are masked in all three places."""
    letter = make_letter(
        1,
        payload={"token": "abc", "url": f"/bot{TOKEN}/x", "items": ["Bearer q1w2e3"]},
        error_message=f"bad token {TOKEN}",
        context={"password": "pw", "orderId": 1},
    )
    masked = mask_letter(letter)
    assert (masked.payload, masked.error_message, masked.context) == (
        {"token": "[REDACTED]", "url": "/bot[REDACTED]/x", "items": ["Bearer [REDACTED]"]},
        "bad token [REDACTED]",
        {"password": "[REDACTED]", "orderId": 1},
    )


def test_secret_keys_must_not_be_a_string() -> None:
    """secret_keys="token" (a str, not a list) is refused rather than read as letters."""
    with pytest.raises(TypeError, match="secret_keys"):
        MemoryDeadLetterStore(secret_keys="phone")  # noqa: S106 - a key name, not a secret


# -- logging sink ----------------------------------------------------------------------------


def test_logging_sink_writes_one_critical_line(caplog: pytest.LogCaptureFixture) -> None:
    """The line starts with DEAD_LETTER: and names requestId, orderId and the error."""
    sink = LoggingDeadLetterSink()
    with caplog.at_level(logging.CRITICAL, logger="felix_reliability.dead_letters"):
        sink.put(make_letter(7, error_message=f"token {TOKEN} refused"))
    [record] = caplog.records
    message = record.getMessage()
    assert (record.levelno, message.startswith("DEAD_LETTER:")) == (logging.CRITICAL, True)
    for part in ("requestId=req7", "orderId=7", "httpx.ReadTimeout", "letter-000007"):
        assert part in message
    assert TOKEN not in message


def test_logging_sink_letter_can_be_recovered(caplog: pytest.LogCaptureFixture) -> None:
    """The line ends with the letter's JSON, so a letter can be rebuilt from the logs."""
    logger = logging.getLogger("test.dead_letters")
    sink = LoggingDeadLetterSink(logger=logger, level=logging.ERROR)
    with caplog.at_level(logging.ERROR, logger="test.dead_letters"):
        sink.put(make_letter(3))
    text = caplog.records[0].getMessage().partition(" letter=")[2]
    assert (make_letter(3), "LoggingDeadLetterSink(logger='test.dead_letters')") == (
        DeadLetter.from_json(text),
        repr(sink),
    )


def test_logging_sink_counts_its_failures() -> None:
    """A letter it cannot serialise raises DeadLetterStoreError and is counted once."""
    metrics = RecordingMetrics()
    sink = LoggingDeadLetterSink(metrics=metrics)
    with pytest.raises(DeadLetterStoreError, match="logging sink"):
        sink.put(make_letter(1, payload=object()))
    assert metrics.counts == {(DEAD_LETTER_WRITE_FAILURES, (("sink", "logging"),)): 1.0}


def test_sinks_are_dead_letter_sinks(tmp_path: Path) -> None:
    """Both sinks satisfy the DeadLetterSink protocol."""
    assert isinstance(LoggingDeadLetterSink(), DeadLetterSink)
    assert isinstance(JsonlDeadLetterSink(tmp_path / "x.jsonl"), DeadLetterSink)


# -- JSONL sink ------------------------------------------------------------------------------


def test_jsonl_sink_round_trips_in_order(tmp_path: Path) -> None:
    """Letters come back from read_jsonl_letters masked and in write order."""
    path = tmp_path / "letters.jsonl"
    letters = [make_letter(2), make_letter(1, payload={"token": "t"})]
    with JsonlDeadLetterSink(path) as sink:
        for letter in letters:
            sink.put(letter)
    assert ([mask_letter(letter) for letter in letters], path) == (
        list(read_jsonl_letters(path)),
        sink.path,
    )


@given(letter=dead_letters)
def test_jsonl_hypothesis_round_trip(
    letter: DeadLetter, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Any letter written by the sink is read back equal to its masked self."""
    path = tmp_path_factory.mktemp("jsonl") / "letters.jsonl"
    sink = JsonlDeadLetterSink(path)
    sink.put(letter)
    sink.close()
    assert [mask_letter(letter)] == list(read_jsonl_letters(path))


def test_torn_line_is_reported_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A half-written line is logged and passed to on_error; the letters around it survive."""
    path = tmp_path / "letters.jsonl"
    path.write_text(
        make_letter(1).to_json() + "\n\n" + make_letter(2).to_json()[:40], encoding="utf-8"
    )
    sink = JsonlDeadLetterSink(path)
    sink.put(make_letter(3))
    sink.close()
    errors: list[int] = []
    with caplog.at_level(logging.WARNING, logger="felix_reliability.dead_letters"):
        ids = [
            letter.id
            for letter in read_jsonl_letters(path, on_error=lambda line, _: errors.append(line))
        ]
    assert (ids, errors) == (["letter-000001", "letter-000003"], [3])
    assert "skipping line 3" in caplog.text


def test_torn_line_without_callback_is_only_logged(tmp_path: Path) -> None:
    """Without on_error a bad line is skipped all the same."""
    path = tmp_path / "letters.jsonl"
    path.write_bytes(b'{"schema_version": 1\n' + b"\xff\xfe\n")
    assert list(read_jsonl_letters(path)) == []


def test_jsonl_sink_appends_after_reopening(tmp_path: Path) -> None:
    """A second sink on the same file appends; a closed sink reopens on put."""
    path = tmp_path / "letters.jsonl"
    first = JsonlDeadLetterSink(path)
    first.put(make_letter(1))
    first.close()
    first.close()
    first.put(make_letter(2))
    JsonlDeadLetterSink(path).put(make_letter(3))
    assert len(list(read_jsonl_letters(path))) == 3
    assert "JsonlDeadLetterSink(" in repr(first)


def test_jsonl_sink_counts_its_write_failures(tmp_path: Path) -> None:
    """A path it cannot open raises DeadLetterStoreError and counts a jsonl failure."""
    metrics = RecordingMetrics()
    sink = JsonlDeadLetterSink(tmp_path / "missing-dir" / "x.jsonl", metrics=metrics)
    with pytest.raises(DeadLetterStoreError, match="jsonl sink"):
        sink.put(make_letter(1))
    assert metrics.counts == {(DEAD_LETTER_WRITE_FAILURES, (("sink", "jsonl"),)): 1.0}


def test_reading_a_missing_file_raises(tmp_path: Path) -> None:
    """read_jsonl_letters raises FileNotFoundError for a missing file."""
    with pytest.raises(FileNotFoundError):
        list(read_jsonl_letters(tmp_path / "nope.jsonl"))


_JSONL_CHILD = """
import sys
from felix_reliability import JsonlDeadLetterSink
from tests.dead_letter_store_contract import make_letter
sink = JsonlDeadLetterSink(sys.argv[1])
print("ready", flush=True)
index = 0
while True:
    letter = make_letter(index, payload={"text": "x" * (index % 5000)})
    sink.put(letter)
    print(letter.id, flush=True)
    index += 1
"""


def kill_at_random(code: str, target: Path, rng: random.Random) -> list[str]:
    """Run *code* on *target*, SIGKILL it at a random moment, return the ids it printed."""
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(target)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([SRC, ROOT])},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    try:
        child.wait(timeout=rng.uniform(0.005, 0.12))
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGKILL)
    output, _ = child.communicate()
    assert child.returncode == -signal.SIGKILL
    return [line for line in output.splitlines() if line.startswith("letter-")]


def test_jsonl_sink_survives_kill_9(tmp_path: Path) -> None:
    """After SIGKILL at random moments, every letter whose put() returned is readable."""
    rng = random.Random(6)
    path = tmp_path / "letters.jsonl"
    confirmed: set[str] = set()
    for _ in range(10):
        confirmed.update(kill_at_random(_JSONL_CHILD, path, rng))
        stored = {letter.id for letter in read_jsonl_letters(path)}
        assert set() == confirmed - stored
    assert confirmed


# -- opening stores by URL -------------------------------------------------------------------


def test_memory_url_opens_a_new_memory_store() -> None:
    """memory:// gives a fresh, empty MemoryDeadLetterStore each time."""
    store = open_dead_letter_store("memory://")
    store.put(make_letter(1))
    assert (MemoryDeadLetterStore, 0, "MemoryDeadLetterStore(count=1)") == (
        type(store),
        open_dead_letter_store("MEMORY://").count(),
        repr(store),
    )


def test_sqlite_urls_relative_and_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sqlite:///rel is relative to the working directory; sqlite:////abs is absolute."""
    monkeypatch.chdir(tmp_path)
    relative = open_dead_letter_store("sqlite:///rel.db")
    absolute = open_dead_letter_store(f"sqlite:///{tmp_path}/abs.db")
    assert isinstance(relative, SQLiteDeadLetterStore)
    assert isinstance(absolute, SQLiteDeadLetterStore)
    assert (Path("rel.db"), tmp_path / "abs.db") == (relative.path, absolute.path)
    relative.close()
    absolute.close()


@pytest.mark.parametrize(
    "url",
    [
        "",
        "no-scheme",
        "://x",
        "1abc://x",
        "memory://somewhere",
        "sqlite://",
        "sqlite:///",
        "sqlite://relative.db",
        "sqlite:///:memory:",
    ],
)
def test_bad_urls_are_configuration_errors(url: str) -> None:
    """A URL that names no store raises ConfigurationError saying what is expected."""
    with pytest.raises(ConfigurationError, match="url"):
        open_dead_letter_store(url)


def test_url_must_be_a_string() -> None:
    """A non-str URL is a TypeError."""
    with pytest.raises(TypeError, match="url must be a str"):
        open_dead_letter_store(Path("x.db"))  # type: ignore[arg-type]


def test_sql_url_without_the_adapter_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without adapters.sql, a SQL URL raises DeadLetterStoreError and hides the password."""
    monkeypatch.setitem(sys.modules, "felix_reliability.adapters.sql", None)
    with pytest.raises(DeadLetterStoreError, match=r"felix-reliability\[sql\]") as info:
        open_dead_letter_store("postgresql+psycopg://app:hunter2@db/app")
    assert "hunter2" not in str(info.value)


def test_sql_url_goes_to_the_sql_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other SQLAlchemy URLs are handed to adapters.sql.SqlDeadLetterStore."""
    fake = types.ModuleType("felix_reliability.adapters.sql")
    fake.SqlDeadLetterStore = lambda url: ("sql store", url)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "felix_reliability.adapters.sql", fake)
    assert open_dead_letter_store("postgresql+psycopg://db/app") == (
        "sql store",
        "postgresql+psycopg://db/app",
    )


def test_sql_adapter_without_the_class_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """An adapters.sql module lacking SqlDeadLetterStore is reported, not crashed on."""
    monkeypatch.setitem(
        sys.modules,
        "felix_reliability.adapters.sql",
        types.ModuleType("felix_reliability.adapters.sql"),
    )
    with pytest.raises(DeadLetterStoreError, match="AttributeError"):
        open_dead_letter_store("mysql://db/app")


def test_letter_reason_values_are_the_contract() -> None:
    """The reasons are exactly the contract's seven strings."""
    assert [reason.value for reason in DeadLetterReason] == [
        "pending",
        "retries_exhausted",
        "circuit_open",
        "permanent_error",
        "retry_after_too_long",
        "deadline_exceeded",
        "budget_exhausted",
    ]


def test_memory_store_isolates_stored_payloads() -> None:
    """Changing a payload after put() does not change the stored letter."""
    store = MemoryDeadLetterStore(clock=FakeClock())
    payload: dict[str, object] = {"text": "before"}
    store.put(make_letter(1, payload=payload))
    payload["text"] = "after"
    assert store.get("letter-000001").payload == {"text": "before"}  # type: ignore[union-attr]


def test_evolve_keeps_validation() -> None:
    """attrs.evolve on a letter runs the converters again."""
    with pytest.raises(ConfigurationError):
        attrs.evolve(make_letter(1), reason="nope")


def test_letter_without_context_has_an_empty_one() -> None:
    """A letter built without context= holds an empty context."""
    letter = make_letter(1)
    data = {**letter.to_dict()}
    del data["context"]
    bare = DeadLetter(
        id="x",
        operation="op",
        payload=None,
        reason="pending",
        error_type="",
        error_message="",
        attempts=0,
        first_failure_at=letter.created_at,
        last_failure_at=letter.created_at,
        created_at=letter.created_at,
    )
    assert bare.context == {}


def test_str_subclasses_in_a_payload_are_stored_as_strings() -> None:
    """An enum value (a str subclass) in a payload is written as its string."""
    store = MemoryDeadLetterStore()
    store.put(make_letter(1, payload={"reason": DeadLetterReason.PENDING, "tags": ("a", 1)}))
    assert store.get("letter-000001").payload == {"reason": "pending", "tags": ["a", 1]}  # type: ignore[union-attr]


def test_a_secret_object_in_a_payload_is_masked() -> None:
    """A Secret in the payload cannot be serialised as is: it is masked instead."""
    from felix_reliability import Secret

    store = MemoryDeadLetterStore()
    store.put(make_letter(1, payload={"auth": Secret("not-registered-x")}))
    assert store.get("letter-000001").payload == {"auth": "[REDACTED]"}  # type: ignore[union-attr]


def test_registered_secrets_are_masked_even_when_escaped_in_json() -> None:
    """A registered Secret value is masked even when JSON escapes one of its characters."""
    from felix_reliability import Secret

    secret = Secret('pa"ss\\word-42')
    store = MemoryDeadLetterStore()
    store.put(make_letter(1, payload={"note": f"login with {secret.reveal()}"}))
    assert store.get("letter-000001").payload == {"note": "login with [REDACTED]"}  # type: ignore[union-attr]


def test_nested_secret_keys_are_found() -> None:
    """A secret key inside a list of mappings is masked."""
    store = MemoryDeadLetterStore()
    store.put(make_letter(1, payload={"items": [{"n": 1}, {"Password": "x"}]}))
    assert store.get(  # type: ignore[union-attr]
        "letter-000001"
    ).payload == {"items": [{"n": 1}, {"Password": "[REDACTED]"}]}


def test_a_circular_payload_is_a_value_error() -> None:
    """A payload that contains itself cannot be written: to_json raises ValueError."""
    payload: dict[str, object] = {"n": 1}
    payload["self"] = payload
    with pytest.raises(ValueError, match="circular"):
        make_letter(payload=payload).to_json()


def test_an_authorization_spelled_with_a_dotless_i_is_masked() -> None:
    """Text that redact() matches case-insensitively (a dotless i) is masked by every sink."""
    store = MemoryDeadLetterStore()
    store.put(
        make_letter(1, error_message="refused: AUTHORIZATION=abc123", payload={"n": "\u0131"})
    )
    store.put(make_letter(2, error_message="refused: author\u0131zation=abc123"))
    expected = ["refused: AUTHORIZATION=[REDACTED]", "refused: author\u0131zation=[REDACTED]"]
    assert expected == [letter.error_message for letter in store.list()]


@pytest.mark.parametrize("key", ["api.key", "none", "2fa", 'we"ird', "pässwort", "tab\tkey"])
def test_configured_keys_json_may_not_spell_plainly_are_masked(key: str) -> None:
    """A configured key that JSON may write differently is still masked (the slow way)."""
    store = MemoryDeadLetterStore(secret_keys=[key])
    store.put(make_letter(1, payload={key.upper(): "hunter2", "text": "hi"}))
    assert {key.upper(): "[REDACTED]", "text": "hi"} == store.get("letter-000001").payload  # type: ignore[union-attr]


def test_none_keys_are_masked_when_none_is_a_secret_key() -> None:
    """A None mapping key (written null) is masked when "none" is configured."""
    store = MemoryDeadLetterStore(secret_keys=["None"])
    store.put(make_letter(1, payload={None: "hunter2", "text": "hi"}))
    assert store.get("letter-000001").payload == {"null": "[REDACTED]", "text": "hi"}  # type: ignore[union-attr]


def test_jsonl_sink_finishes_a_short_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the OS writes only part of a line, the sink writes the rest before the fsync."""
    real_write = os.write
    calls: list[int] = []

    def write_a_few_bytes_first(fd: int, data: bytes) -> int:
        calls.append(len(data))
        return real_write(fd, bytes(data)[:7] if len(calls) == 1 else data)

    sink = JsonlDeadLetterSink(tmp_path / "letters.jsonl")
    sink.put(make_letter(0))  # opens the file
    calls.clear()
    monkeypatch.setattr(os, "write", write_a_few_bytes_first)
    sink.put(make_letter(1))
    monkeypatch.undo()
    sink.close()
    assert len(calls) == 2
    assert [letter.id for letter in read_jsonl_letters(tmp_path / "letters.jsonl")] == [
        "letter-000000",
        "letter-000001",
    ]


@pytest.mark.parametrize("extra_keys", [(), ("key", "api.key"), ("Note",)])
@given(letter=secretish_letters)
def test_every_put_writes_the_masked_letter(
    letter: DeadLetter, extra_keys: tuple[str, ...]
) -> None:
    """What a sink writes is exactly the JSON of mask_letter(): the fast check never skips one."""
    from felix_reliability._secrets import DEFAULT_SECRET_KEYS

    store = MemoryDeadLetterStore(secret_keys=extra_keys)
    store.put(letter)
    keys = DEFAULT_SECRET_KEYS | {key.lower() for key in extra_keys}
    stored = store._letters[letter.id][2]
    assert stored == mask_letter(letter, keys=keys).to_json()
