"""The Textual and Rich internals the patches rely on are the ones they were written for.

A failure here means an upgrade changed a private function that a module in
``tuichat/app/patches/`` copies, replaces or depends on: read the new source, adapt the
patch (or drop it if upstream fixed the problem, see ``docs/upstream.md``), then record
the new hash.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from pathlib import Path

import pytest

from tuichat.app.patches import RELIES_ON

APP = Path(__file__).resolve().parents[2] / "tuichat" / "app"


def source_hash(name: str) -> str:
    module_name, qualified = name.split(":")
    target = importlib.import_module(module_name)
    for part in qualified.split("."):
        target = getattr(target, part)
    # (A patch installed over it keeps the stock function as ``__wrapped__``.)
    return hashlib.sha256(inspect.getsource(inspect.unwrap(target)).encode()).hexdigest()[:16]


@pytest.mark.parametrize("name", sorted(RELIES_ON))
def test_the_patched_internal_is_unchanged(name: str) -> None:
    assert source_hash(name) == RELIES_ON[name], f"{name} changed: review its patch"


def test_every_patch_module_is_documented_upstream() -> None:
    upstream = (APP.parents[1] / "docs" / "upstream.md").read_text(encoding="utf-8")
    for module in sorted((APP / "patches").glob("*.py")):
        if module.name != "__init__.py":
            assert f"patches/{module.name}" in upstream, module.name


def test_nothing_outside_the_patches_home_replaces_a_textual_internal() -> None:
    """Assigning into Textual's modules, or swapping an object's class, happens only in
    ``tuichat/app/patches/`` (and the frame timer's swap in frames.py, which installs it)."""
    allowed = {"frames.py"}
    for path in APP.rglob("*.py"):
        if "patches" in path.parts or path.name in allowed:
            continue
        text = path.read_text(encoding="utf-8")
        assert "__class__ =" not in text, path
        assert "linux_driver." not in text, path


def test_output_is_pending_while_the_writer_holds_a_write() -> None:
    import io
    from types import SimpleNamespace

    from textual.drivers._writer_thread import WriterThread

    from tuichat.app.patches.writer_backlog import output_pending

    output = SimpleNamespace(busy=False)
    driver = SimpleNamespace(_writer_thread=WriterThread(io.StringIO()), _file=output)
    assert not output_pending(driver)
    driver._writer_thread.write("a frame")  # queued: the thread is not running
    assert output_pending(driver)
    driver._writer_thread = None
    output.busy = True  # inside write() or flush()
    assert output_pending(driver)
    output.busy = False
    assert not output_pending(driver)
