"""The public surface is exactly what the API reference documents."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import felix_reliability

DOCS_API = Path(__file__).parents[1] / "docs" / "api"
PUBLIC_MODULES = [
    "felix_reliability",
    "felix_reliability.adapters.flask",
    "felix_reliability.adapters.opentelemetry",
    "felix_reliability.adapters.prometheus",
    "felix_reliability.adapters.redis",
    "felix_reliability.adapters.sql",
    "felix_reliability.adapters.structlog",
    "felix_reliability.adapters.telegram",
    "felix_reliability.exceptions",
    "felix_reliability.testing",
]
_DIRECTIVE = re.compile(
    r"^\.\. auto(?:class|function|data|exception|decorator):: ([\w.]+)$", re.MULTILINE
)


def documented_names() -> dict[str, set[str]]:
    """Map each public module to the names docs/api documents in it."""
    names: dict[str, set[str]] = {module: set() for module in PUBLIC_MODULES}
    for page in DOCS_API.glob("*.md"):
        for dotted in _DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            module, _, name = dotted.rpartition(".")
            names.setdefault(module, set()).add(name)
    return names


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_exactly_the_documented_surface(module_name: str) -> None:
    """Each public module's __all__ equals the names its reference pages document."""
    module = importlib.import_module(module_name)
    assert sorted(documented_names()[module_name]) == sorted(module.__all__)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_sorted_and_resolves(module_name: str) -> None:
    """__all__ is sorted and every name in it exists."""
    module = importlib.import_module(module_name)
    assert list(module.__all__) == sorted(module.__all__)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


def test_version_comes_from_metadata() -> None:
    """__version__ is read lazily from the installed distribution's metadata."""
    from importlib.metadata import version

    assert felix_reliability.__version__ == version("felix-reliability")


def test_unknown_attribute_is_an_attribute_error() -> None:
    """The lazy module __getattr__ answers other names with AttributeError."""
    with pytest.raises(AttributeError, match="no_such_name"):
        felix_reliability.no_such_name  # noqa: B018 - the access is the test


def test_import_pulls_in_no_optional_dependency() -> None:
    """Importing the package imports none of the adapters' libraries."""
    code = (
        "import sys, felix_reliability, felix_reliability.testing, felix_reliability.exceptions;"
        "heavy = {'flask', 'httpx', 'redis', 'sqlalchemy', 'prometheus_client', 'opentelemetry',"
        " 'structlog'};"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    src = str(Path(__file__).parents[1] / "src")
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src},
    )
    assert result.stdout.strip() == "[]"
