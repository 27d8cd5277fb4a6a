"""pytest plugin of the tuichat test kit: the ``wire_server`` fixture.

Registered through the ``pytest11`` entry point of the ``tuichat`` distribution, so any
project that has tuichat installed gets the fixture. Importing this module is cheap: the
server module is imported only when a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tuichat.testing.server import WireServer


@pytest.fixture
def wire_server() -> Iterator[WireServer]:
    """A started loopback :class:`~tuichat.testing.WireServer`, stopped after the test.

    Yields:
        The running server; point the client under test at ``wire_server.url``.
    """
    from tuichat.testing.server import WireServer

    server = WireServer().start()
    try:
        yield server
    finally:
        server.stop()
