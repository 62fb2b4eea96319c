"""Host rules as data: what on a server gives mining away, one YAML file per rule.

A rule names what it looks for (its ``detection``: a *kind* and the kind's fields), how sure a
hit is (``level``), where the knowledge comes from (``references``) and what else could look the
same (``falsepositives``), so that an IT department can judge a hit and a reviewer can judge a
rule. The kinds are found in a registry by name (:data:`KINDS`); each parses its own fields and
matches a :class:`~minewatch.detect.hosts.report.HostReport`.

:func:`validate_rules` checks rule files and returns every problem, each with the file, the rule
and the field; :func:`load_rules` refuses a rule set with an error-severity problem. The packaged
rules are checked by the test suite, so a malformed rule cannot land.
"""

from __future__ import annotations

import ipaddress
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import yaml

from minewatch.detect.hosts.report import HostReport, Process, host_report
from minewatch.errors import MineWatchError
from minewatch.reference.pools import EVERYDAY_PORTS, pool_ports


class Level(StrEnum):
    CRITICAL = "critical"
    """Mining, beyond reasonable doubt (a known miner running)."""
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFORMATIONAL = "informational"


class Status(StrEnum):
    STABLE = "stable"
    TEST = "test"
    EXPERIMENTAL = "experimental"


class Severity(StrEnum):
    ERROR = "error"
    """The rule cannot be used."""
    WARNING = "warning"
    """The rule works but lacks what a reviewer needs."""


@dataclass(frozen=True)
class RuleIssue:
    """A problem with a rule file: where, in which rule and field, and why."""

    path: str
    rule: str | None
    field: str | None
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.path, self.rule, self.field) if p)
        return f"{where}: {self.message} ({self.severity})"


@dataclass(frozen=True)
class Hit:
    """One thing a rule matched on a host, with the facts that matched."""

    rule: str
    level: Level
    title: str
    evidence: Mapping[str, Any]


# --------------------------------------------------------------------------- detection kinds


class Detection(ABC):
    """A kind of detection: its keys (name → required), parsed from YAML, matched on a report."""

    kind: ClassVar[str]
    keys: ClassVar[Mapping[str, bool]]

    @classmethod
    @abstractmethod
    def parse(cls, values: Mapping[str, Any], problem: Callable[[str, str], None]) -> Detection:
        """The detection from its YAML mapping; ``problem(field, message)`` reports a fault."""

    @abstractmethod
    def match(self, report: HostReport) -> list[dict[str, Any]]:
        """The evidence of each hit on ``report``."""

    def probe_hints(self) -> list[str]:
        """Regular expressions the probe should look for in files (none by default)."""
        return []


KINDS: dict[str, type[Detection]] = {}
"""The detection kinds by name."""


def kind(name: str) -> Callable[[type[Detection]], type[Detection]]:
    def register(cls: type[Detection]) -> type[Detection]:
        cls.kind = name
        KINDS[name] = cls
        return cls

    return register


def _patterns(
    values: Mapping[str, Any], key: str, problem: Callable[[str, str], None]
) -> tuple[re.Pattern[str], ...]:
    raw = values.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        problem(key, "must be a list of regular expressions")
        return ()
    compiled = []
    for text in raw:
        try:
            compiled.append(re.compile(text, re.IGNORECASE))
        except re.error as error:
            problem(key, f"{text!r} is not a regular expression ({error})")
    return tuple(compiled)


def _names(
    values: Mapping[str, Any], key: str, problem: Callable[[str, str], None]
) -> frozenset[str]:
    raw = values.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(n, str) and n for n in raw):
        problem(key, "must be a list of names")
        return frozenset()
    return frozenset(n.lower() for n in raw)


def _process_evidence(process: Process, **more: Any) -> dict[str, Any]:
    return {
        "pid": process.pid,
        "name": process.name,
        "exe": process.exe,
        "cmdline": " ".join(process.cmdline)[:500],
        "user": process.user,
        **more,
    }


def _basename(path: str | None) -> str:
    return (path or "").rstrip("/").rsplit("/", 1)[-1].lower()


@kind("process")
@dataclass(frozen=True)
class ProcessDetection(Detection):
    """A process by its name or its executable's name (exact, any case), a pattern over either,
    or a pattern over its arguments."""

    names: frozenset[str]
    name_patterns: tuple[re.Pattern[str], ...]
    args_patterns: tuple[re.Pattern[str], ...]
    keys: ClassVar[Mapping[str, bool]] = {
        "names": False, "name_patterns": False, "args_patterns": False,
    }  # fmt: skip

    @classmethod
    def parse(cls, values: Mapping[str, Any], problem: Callable[[str, str], None]) -> Detection:
        found = cls(
            _names(values, "names", problem),
            _patterns(values, "name_patterns", problem),
            _patterns(values, "args_patterns", problem),
        )
        if not (found.names or found.name_patterns or found.args_patterns):
            problem("detection", "give names, name_patterns or args_patterns")
        return found

    def match(self, report: HostReport) -> list[dict[str, Any]]:
        hits = []
        for process in report.processes:
            names = {process.name.lower(), _basename(process.exe)} - {""}
            args = " ".join(process.cmdline)
            why = (
                "name" if names & self.names
                else "name_pattern" if any(p.search(n) for p in self.name_patterns for n in names)
                else "args" if args and any(p.search(args) for p in self.args_patterns)
                else None
            )  # fmt: skip
            if why is not None:
                hits.append(_process_evidence(process, matched=why))
        return hits


@kind("file")
@dataclass(frozen=True)
class FileDetection(Detection):
    """A file by its name, or by lines of it (the probe reports lines matching its hints)."""

    names: frozenset[str]
    content_patterns: tuple[re.Pattern[str], ...]
    keys: ClassVar[Mapping[str, bool]] = {"names": False, "content_patterns": False}

    @classmethod
    def parse(cls, values: Mapping[str, Any], problem: Callable[[str, str], None]) -> Detection:
        found = cls(
            _names(values, "names", problem), _patterns(values, "content_patterns", problem)
        )
        if not (found.names or found.content_patterns):
            problem("detection", "give names or content_patterns")
        return found

    def match(self, report: HostReport) -> list[dict[str, Any]]:
        hits = []
        for seen in report.files:
            lines = [x for x in seen.excerpts if any(p.search(x) for p in self.content_patterns)]
            if _basename(seen.path) in self.names or lines:
                hits.append({"path": seen.path, "sha256": seen.sha256, "lines": lines[:3]})
        return hits

    def probe_hints(self) -> list[str]:
        return [p.pattern for p in self.content_patterns]


@kind("connection")
@dataclass(frozen=True)
class ConnectionDetection(Detection):
    """An outgoing connection to a port pools listen on (the packaged list without the
    everyday ports, and/or the rule's own)."""

    ports: frozenset[int]
    public_only: bool = False
    """Only connections to public addresses (pools are on the internet; a unit's own services
    on the same port numbers are not)."""
    keys: ClassVar[Mapping[str, bool]] = {"ports": False, "pool_ports": False,
                                          "public_only": False}  # fmt: skip

    @classmethod
    def parse(cls, values: Mapping[str, Any], problem: Callable[[str, str], None]) -> Detection:
        raw = values.get("ports", [])
        if not isinstance(raw, list) or not all(isinstance(p, int) and 0 < p < 65536 for p in raw):
            problem("ports", "must be a list of TCP ports (1 … 65535)")
            raw = []
        ports = set(raw)
        if values.get("pool_ports", False) is True:
            ports |= pool_ports() - EVERYDAY_PORTS
        elif "pool_ports" in values and not isinstance(values["pool_ports"], bool):
            problem("pool_ports", "must be true or false")
        if not ports:
            problem("detection", "give ports or pool_ports: true")
        public_only = values.get("public_only", False)
        if not isinstance(public_only, bool):
            problem("public_only", "must be true or false")
            public_only = False
        return cls(frozenset(ports), public_only)

    def match(self, report: HostReport) -> list[dict[str, Any]]:
        by_pid = {p.pid: p for p in report.processes}
        hits = []
        for connection in report.connections:
            if connection.remote_port in self.ports and not (
                self.public_only and not _is_public(connection.remote_ip)
            ):
                process = by_pid.get(connection.pid) if connection.pid is not None else None
                hits.append(
                    {
                        "remote": f"{connection.remote_ip}:{connection.remote_port}",
                        "pid": connection.pid,
                        "name": process.name if process else None,
                        "exe": process.exe if process else None,
                    }
                )
        return hits


_INSIDE = tuple(
    ipaddress.ip_network(block)
    for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                  "127.0.0.0/8", "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128")
)  # fmt: skip
"""A unit's own network: private (RFC 1918, ULA), shared carrier-grade NAT, loopback and
link-local addresses. Anything else counts as public (documentation ranges included: they stand
for public addresses in examples)."""


def _is_public(address: str) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return True  # an address that cannot be read is not taken for an inside one
    return not any(parsed in block for block in _INSIDE if block.version == parsed.version)


@kind("load")
@dataclass(frozen=True)
class LoadDetection(Detection):
    """A process that kept a CPU or a GPU busy through the probe's window, not started by a
    scheduled job, and not one of the names a unit expects to be busy."""

    cpu_percent_min: float | None
    gpu_percent_min: float | None
    except_names: frozenset[str]
    keys: ClassVar[Mapping[str, bool]] = {
        "cpu_percent_min": False, "gpu_percent_min": False, "except_names": False,
    }  # fmt: skip

    @classmethod
    def parse(cls, values: Mapping[str, Any], problem: Callable[[str, str], None]) -> Detection:
        limits: list[float | None] = []
        for key in ("cpu_percent_min", "gpu_percent_min"):
            value = values.get(key)
            if value is not None and (not isinstance(value, int | float) or value <= 0):
                problem(key, "must be a positive number of per cent")
                value = None
            limits.append(None if value is None else float(value))
        if limits == [None, None]:
            problem("detection", "give cpu_percent_min or gpu_percent_min")
        return cls(limits[0], limits[1], _names(values, "except_names", problem))

    def match(self, report: HostReport) -> list[dict[str, Any]]:
        hits = []
        for process in report.processes:
            if process.scheduled_by or process.name.lower() in self.except_names:
                continue
            cpu = process.cpu_percent or 0.0
            gpu = process.gpu_percent or 0.0
            if (self.cpu_percent_min is not None and cpu >= self.cpu_percent_min) or (
                self.gpu_percent_min is not None and gpu >= self.gpu_percent_min
            ):
                hits.append(_process_evidence(process, cpu_percent=cpu, gpu_percent=gpu))
        return hits


@kind("masquerade")
@dataclass(frozen=True)
class MasqueradeDetection(Detection):
    """A user-space process named like a kernel thread (``kworker/0:1``, ``[kthreadd]``): a real
    kernel thread has no executable and no arguments."""

    name_patterns: tuple[re.Pattern[str], ...]
    keys: ClassVar[Mapping[str, bool]] = {"name_patterns": True}

    @classmethod
    def parse(cls, values: Mapping[str, Any], problem: Callable[[str, str], None]) -> Detection:
        return cls(_patterns(values, "name_patterns", problem))

    def match(self, report: HostReport) -> list[dict[str, Any]]:
        return [
            _process_evidence(process)
            for process in report.processes
            if (process.exe or process.cmdline)
            and any(
                p.search(name)
                for p in self.name_patterns
                for name in (process.name, process.cmdline[0] if process.cmdline else "")
            )
        ]


@kind("deleted_executable")
@dataclass(frozen=True)
class DeletedExecutableDetection(Detection):
    """A process whose executable is gone: a file deleted after it started or, with
    ``memory: true``, an anonymous memory file (``/memfd:…``) it was started from."""

    memory: bool
    except_names: frozenset[str]
    except_exe_patterns: tuple[re.Pattern[str], ...]
    keys: ClassVar[Mapping[str, bool]] = {
        "memory": False, "except_names": False, "except_exe_patterns": False,
    }  # fmt: skip

    @classmethod
    def parse(cls, values: Mapping[str, Any], problem: Callable[[str, str], None]) -> Detection:
        memory = values.get("memory", False)
        if not isinstance(memory, bool):
            problem("memory", "must be true or false")
            memory = False
        return cls(
            memory,
            _names(values, "except_names", problem),
            _patterns(values, "except_exe_patterns", problem),
        )

    def match(self, report: HostReport) -> list[dict[str, Any]]:
        return [
            _process_evidence(process)
            for process in report.processes
            if process.exe_deleted
            and (process.exe or "").startswith("/memfd:") == self.memory
            and process.name.lower() not in self.except_names
            and not any(p.search(process.exe or "") for p in self.except_exe_patterns)
        ]


@kind("persistence")
@dataclass(frozen=True)
class PersistenceDetection(Detection):
    """A cron line or systemd unit that starts something matching a pattern."""

    patterns: tuple[re.Pattern[str], ...]
    keys: ClassVar[Mapping[str, bool]] = {"patterns": True}

    @classmethod
    def parse(cls, values: Mapping[str, Any], problem: Callable[[str, str], None]) -> Detection:
        return cls(_patterns(values, "patterns", problem))

    def match(self, report: HostReport) -> list[dict[str, Any]]:
        return [
            {"kind": entry.kind, "path": entry.path, "line": entry.line[:300]}
            for entry in report.persistence
            if any(p.search(entry.line) for p in self.patterns)
        ]


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class HostRule:
    id: str
    """A dotted reason code, ``hosts.<area>.<what>``."""
    title: str
    level: Level
    status: Status
    description: str
    references: tuple[str, ...]
    falsepositives: tuple[str, ...]
    detection: Detection
    path: str = field(default="", compare=False)

    def match(self, report: HostReport) -> list[Hit]:
        return [Hit(self.id, self.level, self.title, e) for e in self.detection.match(report)]


_ID = re.compile(r"^hosts(\.[a-z0-9_]+){2,}$")
_RULE_FIELDS = {"id", "title", "level", "status", "description", "references", "falsepositives",
                "detection"}  # fmt: skip


def _parse_rule(path: str, data: Any, issues: list[RuleIssue]) -> HostRule | None:
    if not isinstance(data, Mapping):
        issues.append(RuleIssue(path, None, None, "a rule is a mapping of fields"))
        return None
    rule_id = data.get("id") if isinstance(data.get("id"), str) else None
    count = len(issues)

    def problem(name: str | None, message: str, severity: Severity = Severity.ERROR) -> None:
        issues.append(RuleIssue(path, rule_id, name, message, severity))

    for name in sorted(set(data) - _RULE_FIELDS):
        problem(name, "is not a field of a rule")
    if rule_id is None or not _ID.match(rule_id):
        problem("id", "must be a dotted code such as hosts.process.known_miner")
    for name in ("title", "description"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            problem(name, "is required (text)")
    level = data.get("level")
    if level not in {v.value for v in Level}:
        problem("level", f"must be one of {', '.join(v.value for v in Level)}")
    status = data.get("status", Status.EXPERIMENTAL.value)
    if status not in {v.value for v in Status}:
        problem("status", f"must be one of {', '.join(v.value for v in Status)}")
    lists: dict[str, tuple[str, ...]] = {}
    for name in ("references", "falsepositives"):
        value = data.get(name)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            problem(name, "must be a list of texts")
            value = []
        elif not value:
            problem(name, "is empty: say where this comes from / what else looks the same",
                    Severity.WARNING)  # fmt: skip
        lists[name] = tuple(value)
    detection_data = data.get("detection")
    detection: Detection | None = None
    if not isinstance(detection_data, Mapping) or not isinstance(detection_data.get("kind"), str):
        problem("detection", f"must be a mapping with a kind ({', '.join(sorted(KINDS))})")
    elif detection_data["kind"] not in KINDS:
        problem("detection.kind", f"unknown kind {detection_data['kind']!r}; "
                f"known: {', '.join(sorted(KINDS))}")  # fmt: skip
    else:
        cls = KINDS[detection_data["kind"]]
        values = {k: v for k, v in detection_data.items() if k != "kind"}
        for name in sorted(set(values) - set(cls.keys)):
            problem(f"detection.{name}", f"is not a field of kind {cls.kind}")
        for name, required in cls.keys.items():
            if required and name not in values:
                problem(f"detection.{name}", "is required")
        detection = cls.parse(values, lambda name, message: problem(f"detection.{name}", message))
    if any(i.severity is Severity.ERROR for i in issues[count:]) or detection is None:
        return None
    assert rule_id is not None
    assert isinstance(level, str)
    return HostRule(
        id=rule_id,
        title=data["title"].strip(),
        level=Level(level),
        status=Status(status),
        description=data["description"].strip(),
        references=lists["references"],
        falsepositives=lists["falsepositives"],
        detection=detection,
        path=path,
    )


def packaged_rule_files() -> list[Path]:
    """The rule files shipped in the package."""
    folder = resources.files("minewatch.detect.hosts") / "rules"
    return sorted(Path(str(folder)).glob("*.yaml"))


def _rule_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


def read_rules(paths: Iterable[str | Path] | None = None) -> tuple[list[HostRule], list[RuleIssue]]:
    """Parse rule files (the packaged ones by default): the rules that parsed, and every issue."""
    issues: list[RuleIssue] = []
    rules: list[HostRule] = []
    for path in _rule_files(paths) if paths is not None else packaged_rule_files():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            issues.append(RuleIssue(str(path), None, None, f"cannot be read as YAML ({error})"))
            continue
        rule = _parse_rule(str(path), data, issues)
        if rule is not None:
            rules.append(rule)
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.id in seen:
            issues.append(RuleIssue(rule.path, rule.id, "id", f"is also the id of {seen[rule.id]}"))
        seen.setdefault(rule.id, rule.path)
    return rules, issues


def validate_rules(paths: Iterable[str | Path] | None = None) -> list[RuleIssue]:
    """Every problem of the rule files (the packaged ones by default)."""
    return read_rules(paths)[1]


def load_rules(paths: Iterable[str | Path] | None = None) -> list[HostRule]:
    """The rules, refusing a set with any error (the message lists them all)."""
    rules, issues = read_rules(paths)
    errors = [issue for issue in issues if issue.severity is Severity.ERROR]
    if errors:
        raise MineWatchError("host rules refused:\n" + "\n".join(f"  {e}" for e in errors))
    return rules


@cache
def packaged_rules() -> tuple[HostRule, ...]:
    return tuple(load_rules())


def match_rules(report: HostReport, rules: Sequence[HostRule] | None = None) -> list[Hit]:
    """Every hit of ``rules`` (the packaged ones by default) on ``report``, most severe first."""
    order = list(Level)
    hits = [hit for rule in (rules if rules is not None else packaged_rules())
            for hit in rule.match(report)]  # fmt: skip
    return sorted(hits, key=lambda hit: (order.index(hit.level), hit.rule))


def probe_hints(rules: Sequence[HostRule] | None = None) -> list[str]:
    """The patterns the probe looks for in files, from every rule that reads file lines."""
    return sorted({h for rule in (rules or packaged_rules()) for h in rule.detection.probe_hints()})


def report_hits(
    data: Mapping[str, Any], rules: Sequence[HostRule] | None = None
) -> list[dict[str, Any]]:
    """The hits of ``rules`` on a probe's JSON report, as plain records (rule, level, title,
    evidence) for storing with the report; raises ``MineWatchError`` for a malformed report."""
    return [
        {"rule": hit.rule, "level": hit.level.value, "title": hit.title,
         "evidence": dict(hit.evidence)}
        for hit in match_rules(host_report(data), rules)
    ]  # fmt: skip
