"""The examples in the docs' Markdown pages run and print what they show.

Sphinx's doctest builder runs the examples in docstrings; the ``>>>`` lines
in MyST pages are literal blocks to Sphinx, so they are run here instead.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import felix_reliability
import felix_reliability.testing

DOCS = Path(__file__).parents[1] / "docs"
PAGES = sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.parts)


def _globals() -> dict[str, object]:
    names: dict[str, object] = {"felix_reliability": felix_reliability}
    for module in (felix_reliability, felix_reliability.testing):
        names.update({name: getattr(module, name) for name in module.__all__})
    return names


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_markdown_examples_run(page: Path) -> None:
    """Every >>> example of the page gives the output the page shows."""
    result = doctest.testfile(
        str(page),
        module_relative=False,
        globs=_globals(),
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
        verbose=False,
    )
    assert result.failed == 0


ROOT = DOCS.parent
LINKED_PAGES = [*PAGES, ROOT / "README.md"]
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _relative_targets(page: Path) -> list[str]:
    targets: list[str] = []
    for target in _LINK.findall(page.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        targets.append(target.split("#", 1)[0])
    return targets


@pytest.mark.parametrize("page", LINKED_PAGES, ids=[str(p.relative_to(ROOT)) for p in LINKED_PAGES])
def test_relative_links_point_at_existing_files(page: Path) -> None:
    """Every relative Markdown link of the page names a file that exists."""
    missing = [t for t in _relative_targets(page) if not (page.parent / t).is_file()]
    assert not missing
