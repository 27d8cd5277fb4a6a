"""Reading attachments: a file, bytes from stdin, or a folder of text files.

Every failure is one plain sentence naming the file (:class:`AttachmentError`, exit 2
in ``ask``). A file is read whole and checked to be the same file afterwards (size and
modification time before and after): a log that grows while it is read is refused
rather than sent half-written.

A folder gives its text files, walked in name order. Its own ``.gitignore`` is honoured
in a simple way, with the standard library only: each pattern is matched with
:func:`fnmatch.fnmatch` against a file's path relative to the folder and against each
of its parts (so ``build/`` and ``*.log`` work at any depth); ``!`` negations and
``.gitignore`` files of subfolders are not read. ``.git`` is always left out. What a
folder leaves out (ignored, binary, over the caps) is said in :attr:`Attached.notes`.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from tuichat.attachments import (
    Attachment,
    AttachmentError,
    UnknownKind,
    from_bytes,
    human_size,
)

__all__ = [
    "FOLDER_MAX_BYTES",
    "FOLDER_MAX_FILES",
    "MAX_FILE_BYTES",
    "MAX_TEXT_BYTES",
    "Attached",
    "read_attachments",
    "read_folder",
    "read_path",
    "read_stdin",
]

#: Bytes of one file at most: above every provider's own limit for a request.
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Bytes of one text file at most: it becomes part of the prompt's text.
MAX_TEXT_BYTES = 2 * 1024 * 1024
#: Bytes of text a folder gives at most, all its files together.
FOLDER_MAX_BYTES = 2 * 1024 * 1024
#: Files a folder gives at most.
FOLDER_MAX_FILES = 200


@dataclass
class Attached:
    """The attachments read, in the order given, and what folders left out."""

    attachments: list[Attachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _check_size(name: str, attachment: Attachment) -> None:
    if attachment.kind == "text" and attachment.size > MAX_TEXT_BYTES:
        raise AttachmentError(
            f"{name} is {human_size(attachment.size)} of text, over the "
            f"{human_size(MAX_TEXT_BYTES)} limit for a text attachment; attach a part of it."
        )


def read_path(path: str) -> Attachment:
    """The file at ``path`` (as given: it names the attachment).

    Raises:
        AttachmentError: Missing, a folder, unreadable, over :data:`MAX_FILE_BYTES`,
            changed while read, or of no kind that works.
    """
    target = Path(path)
    try:
        before = target.stat()
    except FileNotFoundError:
        raise AttachmentError(f"{path} does not exist; check the path.") from None
    except OSError as exc:
        raise AttachmentError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if target.is_dir():
        raise AttachmentError(f"{path} is a folder; attach the files in it one by one.")
    if before.st_size > MAX_FILE_BYTES:
        raise AttachmentError(
            f"{path} is {human_size(before.st_size)}, over the "
            f"{human_size(MAX_FILE_BYTES)} limit for one attachment."
        )
    try:
        with target.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        after = target.stat()
    except OSError as exc:
        raise AttachmentError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if (
        (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns)
        or len(data) != after.st_size
    ) and target.is_file():
        raise AttachmentError(
            f"{path} changed while it was being read; attach it again once it is written."
        )
    if len(data) > MAX_FILE_BYTES:
        raise AttachmentError(
            f"{path} is over the {human_size(MAX_FILE_BYTES)} limit for one attachment."
        )
    attachment = from_bytes(data, path)
    _check_size(path, attachment)
    return attachment


def read_stdin(stream: BinaryIO) -> Attachment:
    """One attachment from ``stream`` (``-a -``), named ``stdin``, its kind from the bytes.

    Raises:
        AttachmentError: Nothing came, more than :data:`MAX_FILE_BYTES` came, or of no
            kind that works.
    """
    data = stream.read(MAX_FILE_BYTES + 1)
    if not data:
        raise AttachmentError("stdin is empty; pipe the file to attach into 'tuichat ask -a -'.")
    if len(data) > MAX_FILE_BYTES:
        raise AttachmentError(
            f"stdin is over the {human_size(MAX_FILE_BYTES)} limit for one attachment."
        )
    attachment = from_bytes(data, "stdin")
    _check_size("stdin", attachment)
    return attachment


def _ignore_patterns(folder: Path) -> list[str]:
    try:
        lines = (folder / ".gitignore").read_text("utf-8", "replace").splitlines()
    except OSError:
        return []
    patterns = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith(("#", "!")):
            patterns.append(line.strip("/"))
    return patterns


def _ignored(relative: str, patterns: Sequence[str]) -> bool:
    parts = relative.split("/")
    for pattern in patterns:
        if fnmatch.fnmatch(relative, pattern):
            return True
        if any(fnmatch.fnmatch(part, pattern) for part in parts):
            return True
    return False


def read_folder(path: str) -> Attached:
    """The text files of the folder ``path``, each named ``path/relative/name``.

    Walked in name order (a folder's files, then its subfolders), ignored folders never
    entered. Binary files, ignored ones, unreadable ones and those over the caps are
    left out and counted in the notes; the folder only fails when nothing in it can be
    attached.

    Raises:
        AttachmentError: The folder cannot be read or holds no text file to attach.
    """
    folder = Path(path)
    patterns = _ignore_patterns(folder)
    result = Attached()
    ignored = binary = unreadable = over = 0
    total = 0
    try:
        for root, dirs, files in os.walk(folder, onerror=_raise):
            relative_root = Path(root).relative_to(folder).as_posix()
            prefix = "" if relative_root == "." else f"{relative_root}/"
            kept = sorted(d for d in dirs if d != ".git")
            dirs[:] = [d for d in kept if not _ignored(prefix + d, patterns)]
            ignored += len(kept) - len(dirs)
            for file in sorted(files):
                relative = prefix + file
                if _ignored(relative, patterns):
                    ignored += 1
                    continue
                name = os.path.join(path, relative)
                try:
                    size = os.stat(name).st_size
                except OSError:
                    unreadable += 1
                    continue
                if len(result.attachments) >= FOLDER_MAX_FILES or total + size > FOLDER_MAX_BYTES:
                    over += 1  # counted without reading it
                    continue
                try:
                    attachment = read_path(name)
                except UnknownKind:
                    binary += 1
                    continue
                except AttachmentError:
                    unreadable += 1
                    continue
                if attachment.kind != "text":
                    binary += 1
                    continue
                total += attachment.size
                result.attachments.append(attachment)
    except OSError as exc:
        raise AttachmentError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    left_out = []
    if ignored:
        left_out.append(f"{ignored} ignored by its .gitignore")
    if binary:
        left_out.append(f"{binary} not text")
    if unreadable:
        left_out.append(f"{unreadable} unreadable or too large")
    if over:
        left_out.append(
            f"{over} over the folder limit of {FOLDER_MAX_FILES} files or "
            f"{human_size(FOLDER_MAX_BYTES)}"
        )
    if not result.attachments:
        raise AttachmentError(
            f"{path} holds no text file to attach"
            + (f" ({', '.join(left_out)})." if left_out else ".")
        )
    if left_out:
        result.notes.append(
            f"{path}: {len(result.attachments)} file(s) attached; left out: {', '.join(left_out)}."
        )
    return result


def _raise(error: OSError) -> None:
    raise error


def read_attachments(paths: Sequence[str], stdin: BinaryIO | None = None) -> Attached:
    """The attachments of ``paths`` in order; ``-`` reads one from ``stdin``.

    Raises:
        AttachmentError: One of them cannot be attached, or ``-`` is given twice or
            without a stdin.
    """
    result = Attached()
    seen_stdin = False
    for path in paths:
        if path == "-":
            if seen_stdin or stdin is None:
                raise AttachmentError(
                    "Only one attachment can come from stdin ('-a -' once)."
                    if seen_stdin
                    else "There is no stdin to read '-a -' from."
                )
            seen_stdin = True
            result.attachments.append(read_stdin(stdin))
        elif os.path.isdir(path):
            folder = read_folder(path)
            result.attachments.extend(folder.attachments)
            result.notes.extend(folder.notes)
        else:
            result.attachments.append(read_path(path))
    return result
