"""Host rules as data: the packaged rules are valid, a malformed rule is refused with its file,
rule and field, and each rule catches what it says on a crafted host report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from minewatch.detect.hosts.report import (
    Connection,
    FileSeen,
    HostReport,
    Persistence,
    Process,
    host_report,
)
from minewatch.detect.hosts.rules import (
    KINDS,
    Level,
    Severity,
    load_rules,
    match_rules,
    packaged_rule_files,
    probe_hints,
    validate_rules,
)
from minewatch.errors import MineWatchError


def test_the_packaged_rules_are_valid_and_complete() -> None:
    assert validate_rules() == []
    rules = load_rules()
    assert len(rules) == len(packaged_rule_files()) >= 10
    assert {rule.detection.kind for rule in rules} == set(KINDS)
    for rule in rules:
        assert rule.references
        assert rule.falsepositives
        assert rule.id.startswith("hosts.")


GOOD = """
id: hosts.test.rule
title: A test rule
level: high
description: For the tests.
references: [somewhere]
falsepositives: [nothing]
detection:
  kind: process
  names: [xmrig]
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (("kind: process", "kind: telepathy"), "detection.kind", "unknown kind 'telepathy'"),
        (("names: [xmrig]", "name_patterns: ['(xmrig']"), "detection.name_patterns",
         "is not a regular expression"),
        (("level: high", "level: severe"), "level", "must be one of critical"),
        (("id: hosts.test.rule", "id: XMRIG"), "id", "must be a dotted code"),
        (("title: A test rule\n", ""), "title", "is required"),
        (("names: [xmrig]", "names: [xmrig]\n  colour: red"), "detection.colour",
         "is not a field of kind process"),
        (("references: [somewhere]", "references: somewhere"), "references",
         "must be a list of texts"),
        (("names: [xmrig]", "ports: [70000]"), "detection.ports", "is not a field of kind process"),
    ],
)  # fmt: skip
def test_a_malformed_rule_is_refused_naming_file_rule_and_field(
    tmp_path: Path, change: tuple[str, str], field: str, message: str
) -> None:
    path = _write(tmp_path, "bad.yaml", GOOD.replace(*change))
    issues = validate_rules([path])
    assert any(
        i.path == str(path) and i.field == field and message in i.message
        and i.severity is Severity.ERROR
        for i in issues
    ), issues  # fmt: skip
    with pytest.raises(MineWatchError, match=r"bad\.yaml"):
        load_rules([path])


def test_duplicates_broken_yaml_and_missing_references(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", GOOD)
    _write(tmp_path, "b.yaml", GOOD)
    _write(tmp_path, "c.yaml", "id: [unclosed\n")
    _write(tmp_path, "d.yaml", GOOD.replace("hosts.test.rule", "hosts.test.other")
           .replace("references: [somewhere]", "references: []"))  # fmt: skip
    issues = validate_rules([tmp_path])
    texts = [str(i) for i in issues]
    assert any("b.yaml: hosts.test.rule: id: is also the id of" in t for t in texts)
    assert any("c.yaml: cannot be read as YAML" in t for t in texts)
    warning = next(i for i in issues if i.path.endswith("d.yaml"))
    assert warning.severity is Severity.WARNING
    assert warning.field == "references"
    # A warning alone does not refuse the rule.
    assert [r.id for r in load_rules([tmp_path / "d.yaml"])] == ["hosts.test.other"]


def _hits(report: HostReport) -> dict[str, list[dict[str, object]]]:
    found: dict[str, list[dict[str, object]]] = {}
    for hit in match_rules(report):
        found.setdefault(hit.rule, []).append(dict(hit.evidence))
    return found


CLEAN = (
    Process(1, "systemd", "/usr/lib/systemd/systemd", cmdline=("/sbin/init",), user="root"),
    Process(2, "kthreadd"),
    Process(14, "kworker/0:1-events"),
    Process(812, "sshd", "/usr/sbin/sshd", cmdline=("sshd: /usr/sbin/sshd -D",), user="root"),
    Process(901, "postgres", "/usr/lib/postgresql/15/bin/postgres",
            cmdline=("/usr/lib/postgresql/15/bin/postgres", "-D", "/var/lib/postgresql/15/main"),
            user="postgres", cpu_percent=3.0),
    Process(955, "java", "/usr/bin/java", cmdline=("java", "-jar", "app.jar", "-o", "out"),
            user="app", cpu_percent=40.0),
    Process(990, "backup", "/usr/local/bin/backup", user="root", cpu_percent=99.0,
            scheduled_by="cron"),
)  # fmt: skip


def test_a_clean_server_gives_no_hit() -> None:
    report = HostReport(
        "web-01",
        processes=(
            *CLEAN,
            # nginx's package was upgraded under it (its file is deleted until it restarts)
            Process(4100, "nginx", "/usr/sbin/nginx", exe_deleted=True, cmdline=("nginx",)),
        ),
        # the unit's own services on ports pools also use: inside addresses only
        connections=(Connection(812, "10.0.0.9", 22), Connection(955, "10.0.0.5", 5432),
                     Connection(4100, "10.0.0.31", 9999), Connection(None, "192.168.8.20", 5555)),
        persistence=(Persistence("cron", "/etc/crontab", "0 2 * * * root /usr/local/bin/backup"),),
        files=(FileSeen("/etc/nginx/nginx.conf", excerpts=("upstream pool { server a:80; }",)),
               # an application's database connection pools, written like XMRig's pool list
               FileSeen("/opt/orders/config.json",
                        excerpts=('"pools": [ {"name": "orders-db", "max": 20} ]',))),
    )  # fmt: skip
    assert match_rules(report) == []


def test_each_rule_catches_what_it_says() -> None:
    wallet = "4" + "A" + "1" * 93
    report = HostReport(
        "hpc-07",
        processes=(
            *CLEAN,
            Process(3001, "xmrig", "/opt/x/xmrig", cmdline=("/opt/x/xmrig",), cpu_percent=790.0),
            Process(3002, "dbus-helper", "/tmp/.cache/dbus-helper",
                    cmdline=("dbus-helper", "-o", "stratum+tcp://pool.example:3333", "-u", wallet,
                             "--donate-level", "1"), cpu_percent=380.0),  # a renamed miner
            Process(3003, "[kworker/0:3]", "/var/tmp/.k/kworker", cmdline=("[kworker/0:3]",)),
            Process(3004, "updatd", "/var/tmp/updatd", exe_deleted=True, cmdline=("updatd",)),
            Process(3005, "python3", "/usr/bin/python3", cmdline=("python3", "train.py"),
                    gpu_percent=97.0),
        ),
        connections=(Connection(3002, "203.0.113.7", 3333),),
        persistence=(
            Persistence("cron", "/var/spool/cron/crontabs/www",
                        "*/5 * * * * /tmp/.cache/dbus-helper -o stratum+ssl://p.example:443"),
        ),
        files=(
            FileSeen("/home/lab/.xmrig.json", excerpts=('    "donate-level": 1,',)),
            FileSeen("/opt/x/xmrig", sha256="ab" * 32),
        ),
    )  # fmt: skip
    hits = _hits(report)
    assert [e["pid"] for e in hits["hosts.process.known_miner"]] == [3001]
    assert [e["pid"] for e in hits["hosts.process.stratum_url"]] == [3002]
    assert [e["pid"] for e in hits["hosts.process.miner_arguments"]] == [3002]
    assert [e["pid"] for e in hits["hosts.process.kernel_thread_imitation"]] == [3003]
    assert [e["pid"] for e in hits["hosts.process.deleted_executable"]] == [3004]
    assert {e["pid"] for e in hits["hosts.load.sustained"]} == {3001, 3002, 3005}
    assert hits["hosts.network.pool_port"] == [
        {"remote": "203.0.113.7:3333", "pid": 3002, "name": "dbus-helper",
         "exe": "/tmp/.cache/dbus-helper"}
    ]  # fmt: skip
    assert [e["path"] for e in hits["hosts.persistence.miner_start"]] == [
        "/var/spool/cron/crontabs/www"
    ]
    assert [e["path"] for e in hits["hosts.file.miner_config"]] == ["/home/lab/.xmrig.json"]
    assert [e["path"] for e in hits["hosts.file.miner_binary"]] == ["/opt/x/xmrig"]
    levels = [hit.level for hit in match_rules(report)]
    assert levels == sorted(levels, key=list(Level).index), "most severe first"


def test_reports_are_read_from_the_probes_json() -> None:
    report = host_report(
        {
            "hostname": "hpc-07",
            "probe_version": 1,
            "processes": [{"pid": 7, "name": "xmrig", "cmdline": ["xmrig", "-o", "x"],
                           "unknown_key": 1}],
            "connections": [{"pid": 7, "remote_ip": "203.0.113.7", "remote_port": 3333}],
        }
    )  # fmt: skip
    assert report.processes[0].cmdline == ("xmrig", "-o", "x")
    assert report.extra == {"probe_version": 1}
    assert [hit.rule for hit in match_rules(report)][:1] == ["hosts.process.known_miner"]
    with pytest.raises(MineWatchError, match="hostname"):
        host_report({"processes": []})
    with pytest.raises(MineWatchError, match=r"processes\[0\]"):
        host_report({"hostname": "x", "processes": [{"name": "no pid"}]})


def test_probe_hints_come_from_the_file_rules() -> None:
    hints = probe_hints()
    assert any("stratum" in hint for hint in hints)
    assert any("donate-level" in hint for hint in hints)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"hostname": "a", "ips": 5}, "ips"),
        ({"hostname": "a", "processes": "xmrig"}, "processes"),
        ({"hostname": "a", "processes": [{"pid": "x", "name": "xmrig"}]}, "processes[0].pid"),
        ({"hostname": "a", "processes": [{"pid": 1, "name": 7}]}, "processes[0].name"),
        ({"hostname": "a", "processes": [{"pid": 1, "name": "a", "cmdline": ["-o", 3]}]},
         "processes[0].cmdline"),
        ({"hostname": "a", "connections": [{"pid": 1, "remote_ip": "1.2.3.4",
                                            "remote_port": True}]}, "connections[0].remote_port"),
    ],
)  # fmt: skip
def test_a_malformed_report_is_refused_naming_the_field(
    data: dict[str, object], where: str
) -> None:
    with pytest.raises(MineWatchError, match=rf"^{re.escape(where)}"):
        host_report(data)
