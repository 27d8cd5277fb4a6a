"""``python -m tuichat.serve``: the same as ``tuichat serve``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tuichat.console import EXIT_INTERRUPTED, fail


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
        return fail(exc)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
