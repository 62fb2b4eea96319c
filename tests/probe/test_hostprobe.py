"""The host probe: a crafted /proc tree with hidden miners, this machine, a process posing as a
miner, the signature, and the promise of a single standard-library file for Python 3.8."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from minewatch.detect.hosts.report import host_report
from minewatch.detect.hosts.rules import Level, match_rules
from minewatch.probe import hostprobe
from minewatch.probe.hostprobe import Probe, sign, verify

STAT = "{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 0 0 0 0 {utime} 0 0 0 20 0 1 0 100 0 0"


def _process(proc: Path, pid: int, comm: str, *, ppid: int = 1, exe: str | None = None,
             cmdline: tuple[str, ...] = (), uid: int = 0, utime: int = 0,
             sockets: tuple[int, ...] = (), cgroup: str = "0::/") -> None:  # fmt: skip
    folder = proc / str(pid)
    (folder / "fd").mkdir(parents=True)
    (folder / "stat").write_text(STAT.format(pid=pid, comm=comm, ppid=ppid, utime=utime))
    (folder / "cmdline").write_bytes(b"\0".join(a.encode() for a in cmdline))
    (folder / "status").write_text(f"Name:\t{comm}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")
    (folder / "cgroup").write_text(cgroup + "\n")
    if exe is not None:
        os.symlink(exe, folder / "exe")
    for number, inode in enumerate(sockets, start=3):
        os.symlink(f"socket:[{inode}]", folder / "fd" / str(number))


@pytest.fixture
def crafted(tmp_path: Path) -> tuple[Path, Path]:
    """A server with a renamed miner started by cron, a miner whose file was deleted, a
    miner posing as a kernel thread, real kernel threads and ordinary services."""
    proc, root = tmp_path / "proc", tmp_path / "root"
    _process(proc, 1, "systemd", ppid=0, exe="/usr/lib/systemd/systemd", cmdline=("/sbin/init",))
    _process(proc, 2, "kthreadd", ppid=0)
    _process(proc, 15, "kworker/0:1-events", ppid=2)
    _process(proc, 700, "cron", exe="/usr/sbin/cron", cmdline=("/usr/sbin/cron", "-f"))
    _process(proc, 812, "sshd", exe="/usr/sbin/sshd", cmdline=("sshd: /usr/sbin/sshd -D",),
             sockets=(5001,))  # fmt: skip
    # Renamed miner, started by cron, connected to a pool.
    wallet = "4" + "8" * 94
    _process(proc, 2301, "dbus-daemon-helper", ppid=700, exe="/var/tmp/.cache/dbus-daemon-helper",
             cmdline=("dbus-daemon-helper", "-o", "stratum+tcp://xmr.pool.example:3333",
                      "-u", wallet, "--donate-level", "1"), uid=33, sockets=(7001,))  # fmt: skip
    # A miner whose executable was deleted after it started.
    _process(proc, 2402, "updater", exe="/tmp/.x/updater (deleted)", cmdline=("updater",))
    # A miner posing as a kernel thread (its own executable, a bracketed name).
    _process(proc, 2503, "kswapd0", exe="/dev/shm/.k/kswapd0", cmdline=("[kswapd0]",))
    net = proc / "net"
    net.mkdir()
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid"
    header += "  timeout inode\n"
    rows = [
        # 10.0.0.4:22 ← 10.0.0.9:51000, sshd
        "   0: 0400000A:0016 0900000A:C738 01 00000000:00000000 00:00000000 00000000"
        "     0        0 5001 1 0 20 4 30 10 -1",
        # 10.0.0.4:40000 → 203.0.113.7:3333, the renamed miner
        "   1: 0400000A:9C40 077100CB:0D05 01 00000000:00000000 00:00000000 00000000"
        "    33        0 7001 1 0 20 4 30 10 -1",
        # a listening socket: not a connection
        "   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
        "     0        0 5000 1 0 20 4 30 10 -1",
    ]
    (net / "tcp").write_text(header + "\n".join(rows) + "\n")
    (net / "tcp6").write_text(header)
    cron = root / "var/spool/cron/crontabs"
    cron.mkdir(parents=True)
    (cron / "www-data").write_text(
        "# m h dom mon dow command\n"
        "*/10 * * * * /var/tmp/.cache/dbus-daemon-helper -o stratum+tcp://xmr.pool.example:3333\n"
    )
    dropped = root / "var/tmp/.x"
    dropped.mkdir(parents=True)
    (dropped / "xmrig").write_bytes(b"\x7fELF" + bytes(100))
    config = root / "home/lab/.config/update"
    config.mkdir(parents=True)
    (config / "c.json").write_text('{\n  "donate-level": 1,\n  "pools": [\n  ]\n}\n')
    (config / "notes.txt").write_text("nothing to see\n")
    units = root / "etc/systemd/system"
    units.mkdir(parents=True)
    (units / "backup.service").write_text("[Service]\nExecStart=/usr/local/bin/backup\n")
    (units / "backup.timer").write_text("[Timer]\nOnCalendar=daily\n")
    return proc, root


def test_the_crafted_host_gives_every_miner_away(crafted: tuple[Path, Path]) -> None:
    proc, root = crafted
    data = Probe(str(proc), str(root)).report(window=0)
    report = host_report(json.loads(json.dumps(data)))
    by_pid = {p.pid: p for p in report.processes}
    assert by_pid[2402].exe == "/tmp/.x/updater"
    assert by_pid[2402].exe_deleted
    assert by_pid[2301].scheduled_by == "cron"
    assert by_pid[2301].user is not None
    assert [(c.pid, c.remote_ip, c.remote_port) for c in report.connections] == [
        (812, "10.0.0.9", 51000), (2301, "203.0.113.7", 3333)
    ]  # fmt: skip
    hits: dict[str, set[object]] = {}
    for hit in match_rules(report):
        hits.setdefault(hit.rule, set()).add(hit.evidence.get("pid") or hit.evidence.get("path"))
    assert hits["hosts.process.stratum_url"] == {2301}
    assert hits["hosts.process.miner_arguments"] == {2301}
    assert hits["hosts.process.deleted_executable"] == {2402}
    assert hits["hosts.process.kernel_thread_imitation"] == {2503}
    assert hits["hosts.network.pool_port"] == {2301}
    assert hits["hosts.persistence.miner_start"] == {"/var/spool/cron/crontabs/www-data"}
    assert 15 not in set().union(*hits.values()), "a real kernel thread is not flagged"
    assert hits["hosts.file.miner_binary"] == {"/var/tmp/.x/xmrig"}
    assert hits["hosts.file.miner_config"] == {"/home/lab/.config/update/c.json"}
    assert len(data["files"]) == 2
    skipped = Probe(str(proc), str(root), exclude=["/var/tmp"]).files()
    assert [f["path"] for f in skipped] == ["/home/lab/.config/update/c.json"]
    systemd = [e for e in data["persistence"] if e["kind"] == "systemd"]
    assert systemd == [{"kind": "systemd", "path": "/etc/systemd/system/backup.service",
                        "line": "ExecStart=/usr/local/bin/backup"}]  # fmt: skip


def _probe_this_machine(tmp_path: Path, window: float = 0.5) -> dict[str, object]:
    """The probe on this machine, its file search skipping the temporary folder: test runs
    (this one's crafted miners included) and tools write there."""
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, hostprobe.__file__, "--window", str(window), "--out", str(out),
         "--exclude", tempfile.gettempdir()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_this_machine_shows_nothing_suspicious(tmp_path: Path) -> None:
    data = _probe_this_machine(tmp_path)
    report = host_report(data)
    assert len(report.processes) > 3
    assert any(p.pid == os.getpid() for p in report.processes)
    findings = [h for h in match_rules(report) if h.level is not Level.LOW]
    assert findings == []


def test_a_process_posing_as_a_miner_is_flagged(tmp_path: Path) -> None:
    decoy = subprocess.Popen(
        ["sh", "-c", "sleep 30", "xmrig", "-o", "stratum+tcp://pool.example.org:3333"]
    )
    try:
        time.sleep(0.2)
        report = host_report(_probe_this_machine(tmp_path, window=0.2))
    finally:
        decoy.kill()
        decoy.wait()
    hits = [h for h in match_rules(report) if h.evidence.get("pid") == decoy.pid]
    assert [h.rule for h in hits] == ["hosts.process.stratum_url"]


def test_the_signature_covers_the_whole_report(crafted: tuple[Path, Path]) -> None:
    proc, root = crafted
    report = sign(Probe(str(proc), str(root)).report(window=0), b"unit-key")
    assert verify(report, b"unit-key")
    assert not verify(report, b"another key")
    tampered = dict(report, hostname="elsewhere")
    assert not verify(tampered, b"unit-key")


def test_the_probe_is_one_standard_library_file_for_python_3_8() -> None:
    source = Path(hostprobe.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 8))
    imported = {n.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for n in node.names}  # fmt: skip
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}  # fmt: skip
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


def test_the_probe_looks_for_what_the_rules_name() -> None:
    from minewatch.detect.hosts.rules import packaged_rules, probe_hints

    names: set[str] = set()
    for rule in packaged_rules():
        names |= (
            set(getattr(rule.detection, "names", ())) if rule.detection.kind == "file" else set()
        )
    assert names == hostprobe.MINER_FILE_NAMES, "update the probe's MINER_FILE_NAMES"
    assert sorted(hostprobe.CONTENT_HINTS) == probe_hints(), "update the probe's CONTENT_HINTS"
