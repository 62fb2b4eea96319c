"""Where input files live: the local disk, or a filesystem named by a URI (HDFS, S3 …).

A grid company's metering data sits in its Hadoop platform; the cluster engine reads it there.
A location with a scheme (``hdfs://namenode/exports``, ``s3://bucket/readings``, ``file:///…``)
is opened through Arrow's filesystems (:mod:`pyarrow.fs`); anything else is a local path.
Arrow needs the cluster's client libraries for HDFS (``libhdfs`` and the Hadoop classpath) and
credentials in the usual places for S3; nothing here reaches a network unless a URI says so.
"""

from __future__ import annotations

import contextlib
import fnmatch
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from minewatch.errors import InputFileError, InputProblem

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
_GLOB = re.compile(r"[*?\[]")


def is_uri(location: str | Path) -> bool:
    """Whether ``location`` names a filesystem by its scheme (``hdfs://…``), not a local path."""
    return isinstance(location, str) and bool(_SCHEME.match(location))


def _problem(location: str, reason: str) -> InputFileError:
    return InputFileError(location, [InputProblem(None, None, reason)])


def resolve(uri: str) -> tuple[Any, str]:
    """The Arrow filesystem of ``uri`` and the path within it."""
    import pyarrow.fs as pafs

    try:
        filesystem, path = pafs.FileSystem.from_uri(uri)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise _problem(uri, f"cannot open this location ({error})") from None
    return filesystem, path


def _rebuild(uri: str, path: str) -> str:
    """``path`` (of ``uri``'s filesystem) written as a URI again."""
    scheme, rest = uri.split("://", 1)
    if scheme == "file":
        return f"file://{path}"
    authority = rest.split("/", 1)[0]
    bucket_style = not path.startswith("/")  # S3, GCS: the bucket leads the path
    if bucket_style:
        return f"{scheme}://{path}"
    return f"{scheme}://{authority}{path}"


def expand_uri(uri: str, suffixes: tuple[str, ...]) -> list[str]:
    """The files named by ``uri``: a file, a folder (every file inside ending in one of
    ``suffixes``, hidden ones excepted) or a pattern (``*``, ``?``, ``[…]``; ``*`` may cross
    folders). Sorted; raises :class:`InputFileError` when nothing matches."""
    import pyarrow.fs as pafs

    pattern = _GLOB.search(uri.split("://", 1)[1]) is not None
    base_uri = uri
    if pattern:
        head = _GLOB.split(uri, maxsplit=1)[0]
        base_uri = head.rsplit("/", 1)[0] if "/" in head.split("://", 1)[1] else head
    filesystem, base = resolve(base_uri)
    try:
        info = filesystem.get_file_info(base)
        if info.type == pafs.FileType.File and not pattern:
            return [uri]
        if info.type != pafs.FileType.Directory:
            raise _problem(uri, "file not found")
        listed = filesystem.get_file_info(pafs.FileSelector(base, recursive=True))
    except (pa.ArrowException, OSError) as error:
        raise _problem(uri, f"cannot be listed ({error})") from None
    found: list[str] = []
    for entry in listed:
        if entry.type != pafs.FileType.File or not entry.base_name.lower().endswith(suffixes):
            continue
        relative = entry.path[len(base) :].lstrip("/")
        if any(part.startswith(".") or part.startswith("_") for part in relative.split("/")):
            continue  # hidden files, and Spark's and Hadoop's _SUCCESS, _temporary …
        full = _rebuild(uri, entry.path)
        if pattern and not fnmatch.fnmatchcase(full, uri):
            continue
        found.append(full)
    if not found:
        kinds = ", ".join(suffixes)
        raise _problem(uri, f"{'the pattern' if pattern else 'the folder'} holds no {kinds} file")
    return sorted(found)


@contextlib.contextmanager
def local_copy(location: str | Path) -> Iterator[Path]:
    """A local path for ``location``: the path itself, or a temporary copy of a URI's file
    (for readers that need one, such as CSV); the copy is removed afterwards."""
    if not is_uri(location):
        yield Path(location)
        return
    uri = str(location)
    filesystem, path = resolve(uri)
    with tempfile.TemporaryDirectory(prefix="minewatch-") as folder:
        target = Path(folder) / Path(path).name
        try:
            with filesystem.open_input_stream(path) as source, open(target, "wb") as sink:
                while chunk := source.read(1 << 22):
                    sink.write(chunk)
        except (pa.ArrowException, OSError) as error:
            raise _problem(uri, f"cannot be read ({error})") from None
        try:
            yield target
        except InputFileError as error:  # name the file as the user did, not the copy
            raise InputFileError(uri, error.problems) from None
