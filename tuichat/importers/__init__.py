"""``tuichat import``: conversations from ChatGPT, Claude.ai, llm, Elia, oterm and tuichat.

One module per format turns its source into :class:`~tuichat.importers.records.Imported`
records; :mod:`~tuichat.importers.sources` detects and opens the source;
:mod:`~tuichat.importers.writer` writes the records into the store once each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tuichat.importers.progress import Progress
from tuichat.importers.records import Broken, Imported, ImportedMessage
from tuichat.importers.sources import DATABASES, FORMATS, default_path, open_source
from tuichat.importers.writer import ImportClock, Summary, Writer, marker_key
from tuichat.store import Store

__all__ = [
    "DATABASES",
    "FORMATS",
    "Broken",
    "ImportClock",
    "Imported",
    "ImportedMessage",
    "Progress",
    "Summary",
    "default_path",
    "import_paths",
    "marker_key",
]


def import_paths(
    store: Store,
    clock: ImportClock,
    paths: Sequence[Path],
    *,
    fmt: str = "auto",
    dry_run: bool = False,
    report: Callable[[str], None],
    progress: Progress | None = None,
) -> Summary:
    """Import every conversation of ``paths`` into ``store`` (opened on ``clock``).

    Every path is opened before anything is written, so a bad path stops the command
    before it has half done its work.

    Args:
        report: Receives one line per conversation that could not be imported.

    Raises:
        UsageError: A path cannot be read or is in no format tuichat imports.
    """
    opened = []
    try:
        for path in paths:
            opened.append((path, open_source(path, fmt)))
        summary = Summary(dry_run=dry_run)
        for path, source in opened:

            def failed(name: str, reason: str, path: Path = path) -> None:
                if progress is not None:
                    progress.clear()
                report(f"{path}: {name}: {reason}")

            writer = Writer(store, clock, summary, failed)
            done = 0
            for item in source.items:
                writer.write(source.format, item)
                done += 1
                if progress is not None:
                    fraction = source.fraction()
                    if fraction is None and source.total:
                        fraction = done / source.total
                    progress.update(done, fraction)
        if progress is not None:
            progress.clear()
        return summary
    finally:
        for _, source in opened:
            source.close()
