"""Secret never prints; redact masks known shapes."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given

from felix_reliability import Secret, redact
from felix_reliability._secrets import MASK, redact_data
from tests.strategies import hostile_text

TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_secret_hides_its_value() -> None:
    """repr and str are masked; reveal gives the value."""
    secret = Secret("hunter2-password")
    assert repr(secret) == str(secret) == "Secret('[REDACTED]')"
    assert f"{secret}" == "Secret('[REDACTED]')"
    assert secret.reveal() == "hunter2-password"


def test_secret_equality_and_hash() -> None:
    """Secrets compare by value; other types are not equal."""
    assert Secret("abc") == Secret("abc")
    assert Secret("abc") != Secret("abd")
    assert Secret("abc") != "abc"
    assert hash(Secret("abc")) == hash(Secret("abc"))


def test_secret_refuses_pickle_and_non_str() -> None:
    """A Secret cannot be pickled, and only wraps strings."""
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret("abc"))
    with pytest.raises(TypeError, match="value must be a str"):
        Secret(123)  # type: ignore[arg-type]


def test_registered_secret_is_masked_anywhere() -> None:
    """A long Secret's value is masked even without a known shape."""
    Secret("plain-shapeless-secret-value")
    assert redact("x=plain-shapeless-secret-value;") == f"x={MASK};"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"POST https://api.telegram.org/bot{TOKEN}/sendMessage",
            f"POST https://api.telegram.org/bot{MASK}/sendMessage",
        ),
        ("Authorization: Bearer abc.def-ghi", f"Authorization: {MASK}"),
        (
            "headers={'Authorization': 'Basic dXNlcjpwYXNz'}",
            f"headers={{'Authorization': '{MASK}'}}",
        ),
        ("token is bearer xyz123", f"token is bearer {MASK}"),
        ("postgresql://felix:s3cret@db:5432/hub", f"postgresql://{MASK}@db:5432/hub"),
        ("nothing to hide: order 123 at 10:30", "nothing to hide: order 123 at 10:30"),
    ],
)
def test_redact_masks_known_shapes(text: str, expected: str) -> None:
    """Tokens, Authorization values and URL credentials are masked; other text is kept."""
    assert redact(text) == expected


@given(hostile_text, hostile_text)
def test_redact_never_lets_a_token_through(prefix: str, suffix: str) -> None:
    """A bot token is masked wherever it stands in arbitrary text."""
    assert TOKEN not in redact(prefix + TOKEN + suffix)


def test_redact_data_masks_keys_and_strings() -> None:
    """Secret keys are masked whatever their case; nested strings are redacted."""
    data = {
        "chat_id": 42,
        "Authorization": "Bearer x",
        "nested": [{"password": "p"}, f"bot{TOKEN}", Secret("s")],
        "tuple": (1, 2),
    }
    assert redact_data(data) == {
        "chat_id": 42,
        "Authorization": MASK,
        "nested": [{"password": MASK}, f"bot{MASK}", MASK],
        "tuple": [1, 2],
    }
    assert redact_data({"Order_Note": "x"}, keys=["order_note"]) == {"Order_Note": MASK}
