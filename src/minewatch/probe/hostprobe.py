"""MineWatch host probe: what runs on this server, for the server-room self-inspection.

A single file, Python 3.8 or newer, standard library only; it reads and never writes anything
but its report. It collects, from /proc and the usual places:

- every process: its short name, executable (and whether that file was deleted), arguments,
  user, parent, and the CPU it used over a short window (per cent of one core);
- GPU use per process, where ``nvidia-smi`` exists;
- outgoing TCP connections, with the process that holds each;
- cron lines and systemd units (what starts things again), and which processes a cron job or a
  systemd timer started;
- the host's name, addresses and MAC addresses.

It writes a JSON report (to a file or standard output), signed with HMAC-SHA256 when given the
unit's key, which MineWatch matches against its host rules (``minewatch hosts match``).

    python3 hostprobe.py --out report.json [--key-file unit.key] [--window 2]
    python3 hostprobe.py --key-file unit.key --post https://minewatch.example.gov.cn

With a MineWatch unit key (``mwu_…``) the signature names the key, and ``--post`` sends the
report to the platform, which answers with what its rules found.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PROBE_VERSION = 1
SCHEDULERS = {"cron", "crond", "anacron", "atd"}
_TCP_STATES = {"01": "ESTABLISHED", "02": "SYN_SENT"}

# From MineWatch's host rules (kind "file"); a test keeps them equal to the packaged rules.
MINER_FILE_NAMES = frozenset(
    {
        "bfgminer", "bzminer", "ccminer", "cgminer", "cpuminer", "cpuminer-opt", "ethminer",
        "libxmrig-cuda.so", "lolminer", "minerd", "nanominer", "nbminer", "phoenixminer",
        "srbminer-multi", "t-rex", "teamredminer", "wildrig", "xmr-stak", "xmrig", "xmrig-cuda",
        "xmrig-notls",
    }
)  # fmt: skip
CONTENT_HINTS = (
    r'"donate-level"\s*:',
    r'"rig-id"\s*:',
    r"stratum\d?\+(tcp|ssl|tls)://",
)
SEARCHED = ("tmp", "var/tmp", "dev/shm", "root", "home", "opt", "srv", "usr/local/bin",
            "usr/local/sbin", "usr/local/etc", "etc/systemd/system")  # fmt: skip
"""Where dropped miners and their configurations are found (relative to the root)."""
TEXT_SUFFIXES = ("", ".json", ".conf", ".cfg", ".txt", ".sh", ".yaml", ".yml", ".ini", ".service")
MAX_TEXT_BYTES = 1 << 20
MAX_DEPTH = 5
MAX_FILES = 50_000


class Probe:
    """Reads one host's facts from ``proc`` (normally ``/proc``) and ``root`` (``/``): tests
    point both at a crafted tree."""

    def __init__(self, proc: str = "/proc", root: str = "/", exclude: Iterable[str] = ()) -> None:
        self.proc = Path(proc)
        self.root = Path(root)
        self.exclude = tuple(e.rstrip("/") for e in exclude)
        """Folders (as the host names them) the file search skips: a security team's sample
        collection, say."""
        self._users: dict[int, str] = {}

    # ----------------------------------------------------------------- processes

    def pids(self) -> list[int]:
        return sorted(int(p.name) for p in self.proc.iterdir() if p.name.isdigit())

    def _read(self, path: Path, binary: bool = False) -> Any:
        try:
            return path.read_bytes() if binary else path.read_text(errors="replace")
        except OSError:
            return None

    def _stat(self, pid: int) -> tuple[str, int, int, int] | None:
        """(comm, ppid, cpu ticks, tty) from /proc/<pid>/stat."""
        text = self._read(self.proc / str(pid) / "stat")
        if not text or ")" not in text:
            return None
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        try:
            return comm, int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[4])
        except (IndexError, ValueError):
            return None

    def _user(self, pid: int) -> str | None:
        status = self._read(self.proc / str(pid) / "status") or ""
        match = re.search(r"^Uid:\s+(\d+)", status, re.M)
        if match is None:
            return None
        uid = int(match.group(1))
        if uid not in self._users:
            try:
                self._users[uid] = pwd.getpwuid(uid).pw_name
            except KeyError:
                self._users[uid] = str(uid)
        return self._users[uid]

    def _exe(self, pid: int) -> tuple[str | None, bool]:
        try:
            target = os.readlink(str(self.proc / str(pid) / "exe"))
        except OSError:
            return None, False
        if target.endswith(" (deleted)"):
            return target[: -len(" (deleted)")], True
        return target, False

    def _cgroup_unit(self, pid: int) -> str | None:
        text = self._read(self.proc / str(pid) / "cgroup") or ""
        match = re.search(r"/([^/\s]+\.service)", text)
        return match.group(1) if match else None

    def cpu_sample(self) -> tuple[float, dict[int, tuple[str, int, int, int]]]:
        """When, and every process's CPU ticks: the start of the measurement window."""
        return time.monotonic(), {pid: s for pid in self.pids() if (s := self._stat(pid))}

    def processes(
        self, window: float, first: tuple[float, dict[int, tuple[str, int, int, int]]] | None = None
    ) -> list[dict[str, Any]]:
        """Every process, with the CPU it used between ``first`` (a :meth:`cpu_sample`, taken
        now by default) and at least ``window`` seconds later."""
        ticks_per_second = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        started, before = first if first is not None else self.cpu_sample()
        remaining = window - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
        elapsed = max(time.monotonic() - started, 1e-3)
        timers = self._timer_units()
        found: list[dict[str, Any]] = []
        stats: dict[int, tuple[str, int, int, int]] = {}
        for pid in self.pids():
            stat = self._stat(pid)
            if stat is None:
                continue
            stats[pid] = stat
        for pid, (comm, ppid, ticks, tty) in stats.items():
            exe, deleted = self._exe(pid)
            raw = self._read(self.proc / str(pid) / "cmdline", binary=True) or b""
            cmdline = [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]
            cpu = None
            if pid in before and before[pid][0] == comm:
                cpu = round(100.0 * (ticks - before[pid][2]) / ticks_per_second / elapsed, 1)
            found.append(
                {
                    "pid": pid,
                    "ppid": ppid,
                    "name": comm,
                    "exe": exe,
                    "exe_deleted": deleted,
                    "cmdline": cmdline,
                    "user": self._user(pid),
                    "tty": tty,
                    "cpu_percent": cpu,
                    "scheduled_by": self._scheduled_by(pid, stats, timers),
                }
            )
        return found

    def _scheduled_by(
        self, pid: int, stats: dict[int, tuple[str, int, int, int]], timers: set[str]
    ) -> str | None:
        """``cron`` when a scheduler is among its ancestors; ``systemd-timer:<unit>`` when its
        service is started by a timer."""
        seen = set()
        current = stats[pid][1]
        while current > 1 and current in stats and current not in seen:
            seen.add(current)
            if stats[current][0] in SCHEDULERS:
                return "cron"
            current = stats[current][1]
        unit = self._cgroup_unit(pid)
        if unit and unit[: -len(".service")] in timers:
            return "systemd-timer:" + unit
        return None

    # ----------------------------------------------------------------- GPUs

    def gpu_use(self) -> dict[int, float]:
        """Per-process GPU use (SM per cent) from ``nvidia-smi pmon``, where it exists."""
        if shutil.which("nvidia-smi") is None:
            return {}
        try:
            text = subprocess.run(
                ["nvidia-smi", "pmon", "-c", "1", "-s", "u"],
                capture_output=True, text=True, timeout=10, check=False,
            ).stdout  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return {}
        use: dict[int, float] = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 4 and not line.startswith("#") and parts[1].isdigit():
                try:
                    use[int(parts[1])] = use.get(int(parts[1]), 0.0) + float(parts[3])
                except ValueError:
                    continue
        return use

    # ----------------------------------------------------------------- network

    def _socket_owners(self) -> dict[str, int]:
        owners: dict[str, int] = {}
        for pid in self.pids():
            folder = self.proc / str(pid) / "fd"
            try:
                entries = list(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                try:
                    target = os.readlink(str(entry))
                except OSError:
                    continue
                if target.startswith("socket:["):
                    owners.setdefault(target[8:-1], pid)
        return owners

    def connections(self) -> list[dict[str, Any]]:
        owners = self._socket_owners()
        found = []
        for name, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
            text = self._read(self.proc / "net" / name) or ""
            for line in text.splitlines()[1:]:
                parts = line.split()
                if len(parts) < 10 or parts[3] not in _TCP_STATES:
                    continue
                address, port = parts[2].split(":")
                ip = _address(address, family)
                if ip is None or ip in ("0.0.0.0", "::"):
                    continue
                found.append(
                    {
                        "pid": owners.get(parts[9]),
                        "remote_ip": ip,
                        "remote_port": int(port, 16),
                        "state": _TCP_STATES[parts[3]],
                    }
                )
        return found

    # ----------------------------------------------------------------- persistence

    def _files(self, *patterns: str) -> Iterable[Path]:
        for pattern in patterns:
            yield from sorted(self.root.glob(pattern.lstrip("/")))

    def _timer_units(self) -> set[str]:
        folders = ("etc/systemd/system", "etc/systemd/system/*", "lib/systemd/system",
                   "usr/lib/systemd/system")  # fmt: skip
        paths = self._files(*(folder + "/*.timer" for folder in folders))
        return {path.name[: -len(".timer")] for path in paths}

    def persistence(self) -> list[dict[str, str]]:
        found = []
        crontabs = self._files(
            "etc/crontab", "etc/cron.d/*", "var/spool/cron/*", "var/spool/cron/crontabs/*"
        )
        for path in crontabs:
            for line in (self._read(path) or "").splitlines():
                line = line.strip()
                if line and not line.startswith("#") and not re.match(r"^\w+=", line):
                    found.append({"kind": "cron", "path": "/" + str(path.relative_to(self.root)),
                                  "line": line[:500]})  # fmt: skip
        units = self._files(
            "etc/systemd/system/*.service", "etc/systemd/system/*/*.service",
            "lib/systemd/system/*.service", "usr/lib/systemd/system/*.service",
            "home/*/.config/systemd/user/*.service", "root/.config/systemd/user/*.service",
        )  # fmt: skip
        for path in units:
            for line in (self._read(path) or "").splitlines():
                if line.strip().startswith("ExecStart"):
                    found.append({"kind": "systemd", "path": "/" + str(path.relative_to(self.root)),
                                  "line": line.strip()[:500]})  # fmt: skip
        return found

    # ----------------------------------------------------------------- identity

    def macs(self) -> list[str]:
        found = set()
        for path in self._files("sys/class/net/*/address"):
            mac = (self._read(path) or "").strip()
            if mac and mac != "00:00:00:00:00:00":
                found.add(mac)
        return sorted(found)

    # ----------------------------------------------------------------- files

    def files(self, budget_s: float = 2.0) -> list[dict[str, Any]]:
        """Files named as miners, and text files with lines matching the hints, in the places
        dropped miners live; bounded in depth, count and time (``budget_s``)."""
        hints = re.compile("|".join(f"(?:{h})" for h in CONTENT_HINTS), re.IGNORECASE)
        deadline = time.monotonic() + budget_s
        found: list[dict[str, Any]] = []
        seen = 0
        for top in SEARCHED:
            start = self.root / top
            if not start.is_dir() or start.is_symlink():
                continue
            for folder, dirs, names in os.walk(str(start)):
                depth = Path(folder).relative_to(start).parts
                if len(depth) >= MAX_DEPTH:
                    dirs[:] = []
                shown = "/" + str(Path(folder).relative_to(self.root))
                if any(shown == e or shown.startswith(e + "/") for e in self.exclude):
                    dirs[:] = []
                    continue
                for name in names:
                    seen += 1
                    if seen > MAX_FILES or time.monotonic() > deadline:
                        return found
                    path = Path(folder) / name
                    entry = self._file(path, name, hints)
                    if entry is not None:
                        found.append(entry)
        return found

    def _file(self, path: Path, name: str, hints: re.Pattern[str]) -> dict[str, Any] | None:
        try:
            info = path.lstat()
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        shown = "/" + str(path.relative_to(self.root))
        named = name.lower() in MINER_FILE_NAMES
        excerpts: list[str] = []
        if info.st_size <= MAX_TEXT_BYTES and path.suffix.lower() in TEXT_SUFFIXES:
            try:
                with open(path, "rb") as handle:
                    data = handle.read(MAX_TEXT_BYTES)
            except OSError:
                data = b""
            if b"\0" not in data[:1024]:
                text = data.decode("utf-8", "replace")
                excerpts = [line.strip()[:200] for line in text.splitlines()
                            if hints.search(line)][:3]  # fmt: skip
        if not named and not excerpts:
            return None
        digest = None
        if named:
            digest = hashlib.sha256()
            try:
                with open(path, "rb") as handle:
                    for chunk in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(chunk)
            except OSError:
                digest = None
        return {
            "path": shown,
            "size": info.st_size,
            "sha256": digest.hexdigest() if digest else None,
            "excerpts": excerpts,
        }

    def report(self, window: float = 2.0) -> dict[str, Any]:
        """Everything, the other facts gathered inside the CPU measurement window."""
        first = self.cpu_sample()
        facts = {
            "connections": self.connections(),
            "persistence": self.persistence(),
            "files": self.files(budget_s=max(window, 1.0)),
            "macs": self.macs(),
            "ips": _addresses(),
        }
        gpu = self.gpu_use()
        processes = self.processes(window, first)
        for process in processes:
            if process["pid"] in gpu:
                process["gpu_percent"] = gpu[process["pid"]]
        return {
            "probe_version": PROBE_VERSION,
            "hostname": socket.gethostname(),
            "kernel": platform.release(),
            "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "window_s": window,
            "processes": processes,
            **facts,
        }


def _address(hex_address: str, family: int) -> str | None:
    """An address of /proc/net/tcp (little-endian words) as text."""
    try:
        raw = bytes.fromhex(hex_address)
    except ValueError:
        return None
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    try:
        return socket.inet_ntop(family, words)
    except (OSError, ValueError):
        return None


def _addresses() -> list[str]:
    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.add(str(info[4][0]))
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith(("127.", "::1")))


def canonical(report: dict[str, Any]) -> bytes:
    """The bytes the signature covers: the report without its signature, keys sorted."""
    body = {k: v for k, v in report.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


_UNIT_KEY = re.compile(r"mwu_([0-9a-f]{16})_([A-Za-z0-9_-]{20,})")


def signing_key(text: bytes) -> tuple[str | None, bytes]:
    """The key id and HMAC key of a key file: for a MineWatch unit key (``mwu_<id>_<secret>``),
    its id and the SHA-256 of its secret (what the platform keeps); any other content is used
    as it is, with no id."""
    found = _UNIT_KEY.fullmatch(text.strip().decode("ascii", "replace"))
    if found is None:
        return None, text.strip()
    return found.group(1), hashlib.sha256(found.group(2).encode("ascii")).hexdigest().encode()


def sign(report: dict[str, Any], key: bytes, key_id: str | None = None) -> dict[str, Any]:
    digest = hmac.new(key, canonical(report), hashlib.sha256).hexdigest()
    signature = {"algorithm": "HMAC-SHA256", "value": digest}
    if key_id:
        signature["key_id"] = key_id
    return dict(report, signature=signature)


def verify(report: dict[str, Any], key: bytes) -> bool:
    signature = report.get("signature") or {}
    expected = hmac.new(key, canonical(report), hashlib.sha256).hexdigest()
    return hmac.compare_digest(str(signature.get("value", "")), expected)


REPORTS_PATH = "/api/v1/selfcheck/reports"


def post(
    report: dict[str, Any], platform: str, token: str, timeout: float = 30.0
) -> dict[str, Any]:
    """Send a signed report to the platform (``platform`` is its address, such as
    ``https://minewatch.example.gov.cn``) with the unit key; the platform's receipt."""
    import urllib.error
    import urllib.request

    url = platform.rstrip("/")
    if not url.endswith(REPORTS_PATH):
        url += REPORTS_PATH
    body = json.dumps(report, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + token},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            receipt: dict[str, Any] = json.loads(response.read().decode("utf-8"))
            return receipt
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        raise SystemExit(f"the platform refused the report (HTTP {error.code}): {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        raise SystemExit(f"could not reach {url}: {error}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="MineWatch host probe (read-only).")
    parser.add_argument("--out", help="write the report here (default: standard output)")
    parser.add_argument("--key-file", help="the unit's key: sign the report with HMAC-SHA256")
    parser.add_argument(
        "--post", metavar="PLATFORM",
        help="send the signed report to the MineWatch platform at this address (needs --key-file)",
    )  # fmt: skip
    parser.add_argument("--window", type=float, default=2.0, help="seconds of CPU measurement")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="FOLDER",
        help="a folder the file search skips (repeatable), such as a recorded sample collection",
    )  # fmt: skip
    parser.add_argument("--proc", default="/proc", help=argparse.SUPPRESS)
    parser.add_argument("--root", default="/", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.post and not args.key_file:
        parser.error("--post needs --key-file (the unit key the platform issued)")
    key_id, key, token = None, b"", None
    if args.key_file:
        raw = Path(args.key_file).read_bytes()
        key_id, key = signing_key(raw)
        if args.post and key_id is None:
            parser.error("--post needs a MineWatch unit key (mwu_...) in --key-file")
        token = raw.strip().decode("ascii") if key_id else None
    report = Probe(args.proc, args.root, args.exclude).report(window=args.window)
    if args.exclude:
        report["excluded"] = sorted(args.exclude)
    if args.key_file:
        report = sign(report, key, key_id)
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    elif not args.post:
        sys.stdout.write(text + "\n")
    if args.post and token:
        receipt = post(report, args.post, token)
        sys.stdout.write(json.dumps(receipt, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
