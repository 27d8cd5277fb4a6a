"""``python -m tuichat.serve``: the same as ``tuichat serve``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, load the config and plugins, and serve until interrupted."""
    from tuichat.errors import TuichatError
    from tuichat.serve.cli import DESCRIPTION, add_serve_arguments, run_serve

    parser = argparse.ArgumentParser(prog="python -m tuichat.serve", description=DESCRIPTION)
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    try:
        from tuichat.runtime import Runtime

        return run_serve(args, Runtime.load())
    except TuichatError as exc:
        from tuichat.console import fail

        return fail(exc)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
