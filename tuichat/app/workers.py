"""Waiting on Textual workers, for the app and its screens alike."""

from __future__ import annotations

from textual.worker import Worker

__all__ = ["settle"]


async def settle(worker: Worker[None]) -> None:
    """Wait for ``worker`` to end, however it ends."""
    try:
        await worker.wait()
    except Exception:  # WorkerCancelled, WorkerFailed: the worker's state says which
        pass
