"""PrometheusMetrics against the real prometheus_client, read back with its text parser."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from felix_reliability import MetricsCollector
from felix_reliability._metrics import (
    BREAKER_STATE,
    CALL_DURATION,
    CALLS,
    DEAD_LETTER_WRITE_FAILURES,
    RETRY_GIVE_UPS,
)
from felix_reliability.adapters.prometheus import CATALOGUE, PrometheusMetrics


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse the registry's exposition text back into {(sample, labels): value}."""
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def test_is_a_metrics_collector(registry: CollectorRegistry) -> None:
    """PrometheusMetrics satisfies the MetricsCollector protocol."""
    assert isinstance(PrometheusMetrics(registry), MetricsCollector)


def test_counters_get_total_suffix(registry: CollectorRegistry) -> None:
    """felix_calls is exported as felix_calls_total with the catalogue's labels."""
    metrics = PrometheusMetrics(registry)
    metrics.increment(CALLS, labels={"operation": "telegram.send_message", "outcome": "success"})
    metrics.increment(CALLS, 2, {"operation": "telegram.send_message", "outcome": "failure"})
    parsed = samples(registry)
    key = (("operation", "telegram.send_message"), ("outcome", "failure"))
    assert parsed[("felix_calls_total", key)] == 2.0
    assert parsed[("felix_calls_total", (key[0], ("outcome", "success")))] == 1.0


def test_histogram_and_gauge(registry: CollectorRegistry) -> None:
    """Histograms export _count/_sum/_bucket; gauges their last value."""
    metrics = PrometheusMetrics(registry)
    metrics.observe(CALL_DURATION, 0.25, {"operation": "send"})
    metrics.observe(CALL_DURATION, 0.75, {"operation": "send"})
    metrics.set_gauge(BREAKER_STATE, 2, {"breaker": "telegram"})
    metrics.set_gauge(BREAKER_STATE, 1, {"breaker": "telegram"})
    parsed = samples(registry)
    op = (("operation", "send"),)
    assert parsed[("felix_call_duration_seconds_count", op)] == 2.0
    assert parsed[("felix_call_duration_seconds_sum", op)] == 1.0
    assert parsed[("felix_call_duration_seconds_bucket", (("le", "0.5"), *op))] == 1.0
    assert parsed[("felix_breaker_state", (("breaker", "telegram"),))] == 1.0


def test_two_collectors_share_one_registry(registry: CollectorRegistry) -> None:
    """A second collector on the same registry reuses the metrics: no duplicate error."""
    first = PrometheusMetrics(registry)
    second = PrometheusMetrics(registry)
    for metrics in (first, second):
        metrics.increment(DEAD_LETTER_WRITE_FAILURES, labels={"sink": "sqlite"})
        metrics.observe("custom_seconds", 1.0)
        metrics.set_gauge("custom_gauge", 3.0)
    parsed = samples(registry)
    assert parsed[("felix_dead_letter_write_failures_total", (("sink", "sqlite"),))] == 2.0
    assert parsed[("custom_seconds_count", ())] == 2.0
    assert parsed[("custom_gauge", ())] == 3.0


def test_default_registry_is_the_global_one() -> None:
    """Without a registry the global REGISTRY is used, and twice is fine."""
    from prometheus_client import REGISTRY

    PrometheusMetrics().increment(RETRY_GIVE_UPS, labels={"operation": "x", "reason": "attempts"})
    metrics = PrometheusMetrics()
    metrics.increment(RETRY_GIVE_UPS, labels={"operation": "x", "reason": "attempts"})
    assert metrics.registry is REGISTRY
    value = REGISTRY.get_sample_value(
        "felix_retry_give_ups_total", {"operation": "x", "reason": "attempts"}
    )
    assert value is not None
    assert value >= 2.0


def test_label_mismatch_drops_extras_and_blanks_missing(registry: CollectorRegistry) -> None:
    """Labels are fixed by the catalogue: unknown ones are dropped, missing ones are ''."""
    metrics = PrometheusMetrics(registry)
    metrics.increment(CALLS, labels={"operation": "send", "order_id": "order-4242"})
    parsed = samples(registry)
    assert parsed[("felix_calls_total", (("operation", "send"), ("outcome", "")))] == 1.0
    text = generate_latest(registry).decode()
    assert "order_id" not in text
    assert "order-4242" not in text


def test_metric_outside_the_catalogue_takes_first_labels(registry: CollectorRegistry) -> None:
    """A non-catalogue metric's label names are the sorted names of its first record."""
    metrics = PrometheusMetrics(registry)
    metrics.increment("orders", labels={"status": "new", "kind": "part"})
    metrics.increment("orders", labels={"status": "done"})
    parsed = samples(registry)
    assert parsed[("orders_total", (("kind", "part"), ("status", "new")))] == 1.0
    assert parsed[("orders_total", (("kind", ""), ("status", "done")))] == 1.0


def test_one_name_as_two_kinds_is_an_error(registry: CollectorRegistry) -> None:
    """prometheus_client refuses a counter and a gauge of the same name."""
    metrics = PrometheusMetrics(registry)
    metrics.increment("thing")
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        metrics.set_gauge("thing", 1)


def test_gauge_mode_is_validated() -> None:
    """An unknown multiprocess gauge mode is rejected naming the parameter."""
    with pytest.raises(ValueError, match="gauge_mode"):
        PrometheusMetrics(gauge_mode="median")  # type: ignore[arg-type]


def test_catalogue_covers_the_contract() -> None:
    """Every catalogue metric has fixed label names; repr names the registry."""
    assert CATALOGUE[BREAKER_STATE][0] == ("breaker",)
    assert len(CATALOGUE) == 9
    assert repr(PrometheusMetrics(CollectorRegistry())).startswith("PrometheusMetrics(registry=")


def test_same_shape_as_direct_use(registry: CollectorRegistry) -> None:
    """Our counter and a hand-made prometheus Counter export the same sample shape."""
    Counter("direct", "d", ["operation"], registry=registry).labels("x").inc()
    PrometheusMetrics(registry).increment("ours", labels={"operation": "x"})
    parsed = samples(registry)
    assert (
        parsed[("direct_total", (("operation", "x"),))]
        == parsed[("ours_total", (("operation", "x"),))]
    )


def test_multiprocess_mode(tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, two processes' records add up in one scrape."""
    writer = textwrap.dedent(
        """
        import sys
        from felix_reliability.adapters.prometheus import PrometheusMetrics
        metrics = PrometheusMetrics()
        metrics.increment("felix_calls", labels={"operation": "send", "outcome": "success"})
        metrics.set_gauge("felix_breaker_state", float(sys.argv[1]), {"breaker": "telegram"})
        """
    )
    reader = textwrap.dedent(
        """
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        print(generate_latest(registry).decode())
        """
    )
    src = str(Path(__file__).parents[1] / "src")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": src}
    for state in ("2", "0"):
        subprocess.run([sys.executable, "-c", writer, state], env=env, check=True)
    text = subprocess.run(
        [sys.executable, "-c", reader], env=env, check=True, capture_output=True, text=True
    ).stdout
    parsed = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert parsed[("felix_calls_total", (("operation", "send"), ("outcome", "success")))] == 2.0
    # livemax: the worst state among the processes (until mark_process_dead drops one).
    gauge = [value for (name, _), value in parsed.items() if name == "felix_breaker_state"]
    assert gauge == [2.0]


def test_creation_race_keeps_the_first_metric(registry: CollectorRegistry) -> None:
    """Creating a metric another thread just created returns the existing one."""
    metrics = PrometheusMetrics(registry)
    metrics.increment(CALLS)
    table = metrics._shared.counters
    assert table[CALLS] == metrics._create(table, CALLS, None, metrics._counter)
