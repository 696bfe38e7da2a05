"""Run the command line: ``python -m felix_reliability``."""

from __future__ import annotations

import sys

from felix_reliability.cli import main

sys.exit(main())
