"""``python -m tuichat``."""

from __future__ import annotations

from tuichat.cli import main

raise SystemExit(main())
