"""What the host probe reports about one server: the facts the rules are matched against.

The probe (standard library only, run on the server) collects these and writes them as JSON;
:func:`host_report` reads that JSON back into typed records. Only facts are reported: which
process runs which executable with which arguments, how busy it kept a CPU or a GPU, where it
connects, what starts it again, and which files look like a miner or its configuration.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from minewatch.errors import MineWatchError


@dataclass(frozen=True)
class Process:
    pid: int
    name: str
    """The kernel's short name of the process (``comm``), as ``ps`` shows it."""
    exe: str | None = None
    """The executable's path; ``None`` where it cannot be read (a kernel thread has none)."""
    exe_deleted: bool = False
    """The executable was deleted after the process started (a common way to hide a miner)."""
    cmdline: tuple[str, ...] = ()
    user: str | None = None
    ppid: int | None = None
    cpu_percent: float | None = None
    """CPU used over the probe's window, in per cent of one core (400 = four cores busy)."""
    gpu_percent: float | None = None
    scheduled_by: str | None = None
    """What starts it again, where known: ``cron``, ``systemd:<unit>`` …"""


@dataclass(frozen=True)
class Connection:
    pid: int | None
    remote_ip: str
    remote_port: int
    state: str = "ESTABLISHED"


@dataclass(frozen=True)
class Persistence:
    kind: str
    """``cron`` or ``systemd``."""
    path: str
    line: str


@dataclass(frozen=True)
class FileSeen:
    path: str
    sha256: str | None = None
    size: int | None = None
    excerpts: tuple[str, ...] = ()
    """Lines of the file that matched the probe's hints (at most a few, each cut short)."""


@dataclass(frozen=True)
class HostReport:
    hostname: str
    processes: tuple[Process, ...] = ()
    connections: tuple[Connection, ...] = ()
    persistence: tuple[Persistence, ...] = ()
    files: tuple[FileSeen, ...] = ()
    ips: tuple[str, ...] = ()
    macs: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


_FIELD_TYPES: dict[type[Any], dict[str, tuple[type[Any], ...]]] = {}


def _field_types(kind: type[Any]) -> dict[str, tuple[type[Any], ...]]:
    """The JSON types each field of a record accepts (``int | None`` → int or null)."""
    if kind not in _FIELD_TYPES:
        accepted: dict[str, tuple[type[Any], ...]] = {}
        for name, hint in typing.get_type_hints(kind).items():
            options = (
                typing.get_args(hint) if typing.get_origin(hint) is types.UnionType else (hint,)
            )
            allowed: list[type[Any]] = []
            for option in options:
                origin = typing.get_origin(option) or option
                allowed += [list, tuple] if origin is tuple else [origin]
                if option is float:
                    allowed.append(int)
            accepted[name] = tuple(allowed)
        _FIELD_TYPES[kind] = accepted
    return _FIELD_TYPES[kind]


def _records(kind: type[Any], items: Any, where: str) -> tuple[Any, ...]:
    if not isinstance(items, list | tuple):
        raise MineWatchError(f"{where}: expected a list of objects")
    out = []
    accepted = _field_types(kind)
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise MineWatchError(f"{where}[{index}]: expected an object")
        values = {k: v for k, v in item.items() if k in accepted}
        for key, value in values.items():
            wrong = not isinstance(value, accepted[key]) or (
                isinstance(value, bool) and bool not in accepted[key]
            )
            if wrong:
                raise MineWatchError(f"{where}[{index}].{key}: {value!r} is not the expected type")
        for key in ("cmdline", "excerpts"):
            if key in values:
                if not all(isinstance(v, str) for v in values[key]):
                    raise MineWatchError(f"{where}[{index}].{key}: expected a list of text")
                values[key] = tuple(values[key])
        try:
            out.append(kind(**values))
        except TypeError as error:
            raise MineWatchError(f"{where}[{index}]: {error}") from None
    return tuple(out)


def _texts(items: Any, where: str) -> tuple[str, ...]:
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise MineWatchError(f"{where}: expected a list of addresses as text")
    return tuple(items)


def host_report(data: Mapping[str, Any]) -> HostReport:
    """A report from the probe's JSON object (unknown keys are kept aside, not refused: a newer
    probe may report more)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("hostname"), str):
        raise MineWatchError("a host report is an object with at least a hostname")
    known = {"hostname", "processes", "connections", "persistence", "files", "ips", "macs"}
    return HostReport(
        hostname=data["hostname"],
        processes=_records(Process, data.get("processes", ()), "processes"),
        connections=_records(Connection, data.get("connections", ()), "connections"),
        persistence=_records(Persistence, data.get("persistence", ()), "persistence"),
        files=_records(FileSeen, data.get("files", ()), "files"),
        ips=_texts(data.get("ips", ()), "ips"),
        macs=_texts(data.get("macs", ()), "macs"),
        extra={k: v for k, v in data.items() if k not in known},
    )
