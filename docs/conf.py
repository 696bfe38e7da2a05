"""Sphinx configuration: furo, MyST, autodoc and doctest; no network access."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

project = "felix-reliability"
author = "felix-reliability developers"
copyright = "2026, felix-reliability developers"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]

html_theme = "furo"
html_title = "felix-reliability"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Names in signatures that autodoc cannot resolve without intersphinx.
nitpicky = False

# Docstring examples use the public names unqualified, as a user's code would.
doctest_global_setup = """
import felix_reliability
import felix_reliability.testing
for _module in (felix_reliability, felix_reliability.testing):
    globals().update({_name: getattr(_module, _name) for _name in _module.__all__})
"""
