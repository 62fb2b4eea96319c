"""Synthetic servers of a unit's server room and the reports the host probe would write on them.

:func:`server_room` invents, from a seed, a unit's servers (host name, department, room and
rack, addresses, purpose, CPU and GPU counts) and, for ``miners`` of them, a hidden miner in one
of the disguises found on compromised or misused servers:

``plain``           a miner under its own name, in its own folder, with its configuration file;
``renamed``         a miner renamed after a system service, pool address in its arguments,
                    started again by a cron line;
``kernel_thread``   a miner named like a kernel thread (``[kworker/0:2]``) from a hidden folder;
``deleted``         a miner that deleted its file after starting, talking to a pool port;
``gpu``             a GPU miner renamed ``python3`` with an algorithm in its arguments (looks
                    like a training job but for them);
``service``         a miner started by a systemd unit, its pools only in a configuration file;
``memory``          a miner run from an anonymous memory file (``/memfd:``) by a dropper.

The ordinary servers are what such a room really runs, including what looks like mining to a
naive rule: HPC jobs and GPU training at full load, a web server whose package was upgraded
under it (its executable reads as deleted), container runtimes started from sealed memory
files, internal services on ports pools also use, database connection-pool settings, backups
at full CPU started by cron, real kernel threads.

:func:`probe_report` writes the report of one server as the probe
(:mod:`minewatch.probe.hostprobe`) does, with the ground truth kept apart. Only numpy's
``default_rng`` is used; the same seed gives the same servers and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

DISGUISES = ("plain", "renamed", "kernel_thread", "deleted", "gpu", "service", "memory")
PURPOSES = ("web", "database", "hpc", "gpu_training", "mail", "files", "monitoring",
            "containers", "app")  # fmt: skip
_PURPOSE_NAMES = {
    "web": "门户网站", "database": "数据库", "hpc": "高性能计算", "gpu_training": "深度学习训练",
    "mail": "邮件", "files": "文件共享", "monitoring": "运维监控", "containers": "容器平台",
    "app": "业务系统",
}  # fmt: skip
_DEPARTMENTS = ("信息中心", "计算机学院", "物理学院", "图书馆", "财务处", "教务处", "后勤处",
                "实验室管理处")  # fmt: skip
_POOLS = ("pool.supportxmr.com", "xmr.f2pool.com", "eth.2miners.com", "rvn.2miners.com",
          "etc.f2pool.com", "xmr-asia1.nanopool.org")  # fmt: skip
_POOL_PORTS = (3333, 4444, 5555, 7777, 14444, 45700)


@dataclass(frozen=True)
class Server:
    """One server of the unit, as its inventory lists it."""

    asset_id: str
    hostname: str
    department: str
    room: str
    rack: str
    ips: tuple[str, ...]
    macs: tuple[str, ...]
    owner: str
    purpose: str
    cpu_count: int
    gpu_count: int
    miner: str | None = None
    """The miner's disguise (:data:`DISGUISES`), ``None`` for a clean server."""

    @property
    def purpose_text(self) -> str:
        return _PURPOSE_NAMES[self.purpose]


@dataclass
class _Host:
    """A report under construction."""

    rng: np.random.Generator
    processes: list[dict[str, Any]] = field(default_factory=list)
    connections: list[dict[str, Any]] = field(default_factory=list)
    persistence: list[dict[str, str]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    next_pid: int = 300

    def run(self, name: str, exe: str | None, argv: tuple[str, ...], *, user: str = "root",
            ppid: int = 1, cpu: float = 0.0, gpu: float | None = None, deleted: bool = False,
            scheduled_by: str | None = None) -> int:  # fmt: skip
        self.next_pid += int(self.rng.integers(1, 400))
        process: dict[str, Any] = {
            "pid": self.next_pid, "name": name[:15], "exe": exe, "exe_deleted": deleted,
            "cmdline": list(argv), "user": user, "ppid": ppid, "tty": None,
            "cpu_percent": round(cpu, 1), "scheduled_by": scheduled_by,
        }  # fmt: skip
        if gpu is not None:
            process["gpu_percent"] = round(gpu, 1)
        self.processes.append(process)
        return self.next_pid

    def connect(self, pid: int | None, remote: str, port: int) -> None:
        self.connections.append({"pid": pid, "local_ip": "", "local_port": int(
            self.rng.integers(32768, 61000)), "remote_ip": remote, "remote_port": port,
            "state": "ESTABLISHED"})  # fmt: skip


def server_room(
    seed: int,
    *,
    servers: int = 40,
    miners: int = 6,
    unit: str = "雅安某学院",
    prefix: str = "YA",
    subnet: str = "10.8",
) -> list[Server]:
    """``servers`` servers of ``unit``, ``miners`` of them (chosen at random) with a miner, the
    disguises taken in turn so every one appears once ``miners`` ≥ 7."""
    if not 0 <= miners <= servers:
        raise ValueError("miners must be between 0 and the number of servers")
    rng = np.random.default_rng(seed)
    mining = set(rng.choice(servers, size=miners, replace=False).tolist())
    order = list(rng.permutation(len(DISGUISES)))
    found: list[Server] = []
    turn = 0
    for index in range(servers):
        purpose = PURPOSES[int(rng.integers(len(PURPOSES)))]
        gpus = int(rng.choice([4, 8])) if purpose == "gpu_training" else 0
        disguise = None
        if index in mining:
            disguise = DISGUISES[order[turn % len(DISGUISES)]]
            turn += 1
            if disguise == "gpu" and gpus == 0:
                gpus = int(rng.choice([2, 4]))
        found.append(
            Server(
                asset_id=f"{prefix}-{index + 1:04d}",
                hostname=f"{purpose.replace('_', '-')}-{index + 1:03d}",
                department=_DEPARTMENTS[int(rng.integers(len(_DEPARTMENTS)))],
                room=f"信息楼{3 + index // 40}0{1 + index % 3}",
                rack=f"{'ABCDEF'[index // 8 % 6]}{index % 8 + 1:02d}",
                ips=(f"{subnet}.{3 + index // 240}.{10 + index % 240}",),
                macs=(f"52:54:00:{seed % 256:02x}:{index // 256 % 256:02x}:{index % 256:02x}",),
                owner=f"管理员{index % 17 + 1:02d}",
                purpose=purpose,
                cpu_count=int(rng.choice([16, 32, 64, 96])),
                gpu_count=gpus,
                miner=disguise,
            )
        )
    return found


def _base(host: _Host) -> None:
    rng = host.rng
    host.processes.append(
        {"pid": 1, "name": "systemd", "exe": "/usr/lib/systemd/systemd", "exe_deleted": False,
         "cmdline": ["/sbin/init"], "user": "root", "ppid": 0, "tty": None, "cpu_percent": 0.1,
         "scheduled_by": None}
    )  # fmt: skip
    for name in ("kthreadd", "ksoftirqd/0", "kswapd0", "kworker/0:1-events", "rcu_sched",
                 "jbd2/sda1-8", "kcompactd0"):  # fmt: skip
        host.run(name, None, (), ppid=2, cpu=float(rng.uniform(0, 0.5)))
    for name, exe, argv in (
        ("systemd-journal", "/usr/lib/systemd/systemd-journald",
         ("/usr/lib/systemd/systemd-journald",)),
        ("sshd", "/usr/sbin/sshd", ("sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",)),
        ("cron", "/usr/sbin/cron", ("/usr/sbin/cron", "-f")),
        ("rsyslogd", "/usr/sbin/rsyslogd", ("/usr/sbin/rsyslogd", "-n", "-iNONE")),
        ("chronyd", "/usr/sbin/chronyd", ("/usr/sbin/chronyd", "-F", "1")),
        ("zabbix_agentd", "/usr/sbin/zabbix_agentd", ("/usr/sbin/zabbix_agentd", "-c",
                                                      "/etc/zabbix/zabbix_agentd.conf")),
    ):  # fmt: skip
        pid = host.run(name, exe, argv, cpu=float(rng.uniform(0, 1.5)))
        if name == "zabbix_agentd":
            host.connect(pid, "10.0.0.20", 10051)
    hourly = "17 * * * * root cd / && run-parts --report /etc/cron.hourly"
    host.persistence.append({"kind": "cron", "path": "/etc/crontab", "line": hourly})


def _workload(host: _Host, server: Server) -> None:
    rng = host.rng
    busy = float(rng.uniform(92, 99))
    match server.purpose:
        case "web":
            # the package was upgraded under the running nginx: its file reads as deleted
            upgraded = bool(rng.random() < 0.5)
            pid = host.run("nginx", "/usr/sbin/nginx", ("nginx: master process /usr/sbin/nginx",),
                           deleted=upgraded)  # fmt: skip
            for _ in range(4):
                host.run("nginx", "/usr/sbin/nginx", ("nginx: worker process",), user="www-data",
                         ppid=pid, cpu=float(rng.uniform(0, 30)))  # fmt: skip
            host.run("php-fpm8.2", "/usr/sbin/php-fpm8.2", ("php-fpm: pool www",),
                     user="www-data", cpu=float(rng.uniform(0, 20)))  # fmt: skip
            host.connect(pid, "10.0.0.31", 9999)  # the unit's own session service
        case "database":
            pid = host.run("postgres", "/usr/lib/postgresql/15/bin/postgres",
                           ("/usr/lib/postgresql/15/bin/postgres", "-D",
                            "/var/lib/postgresql/15/main"), user="postgres")  # fmt: skip
            host.run("postgres", "/usr/lib/postgresql/15/bin/postgres",
                     ("postgres: 15/main: analytics reporting 10.8.3.77(51234) SELECT",),
                     user="postgres", ppid=pid, cpu=busy)  # fmt: skip
            host.files.append({"path": "/opt/pgbouncer/pools.json", "size": 412, "sha256": None,
                               "excerpts": []})  # fmt: skip
        case "hpc":
            slurm = host.run("slurmstepd", "/usr/sbin/slurmstepd", ("slurmstepd: [48121.batch]",))
            host.run("gmx", "/opt/apps/gromacs/2023/bin/gmx",
                     ("gmx", "mdrun", "-deffnm", "md_0_1", "-nt", str(server.cpu_count)),
                     user="u2019031", ppid=slurm, cpu=server.cpu_count * busy)  # fmt: skip
        case "gpu_training":
            host.run("python3", "/usr/bin/python3.11",
                     ("python3", "train.py", "--config", "configs/resnet50.yaml", "--gpus",
                      str(server.gpu_count)), user="lab", cpu=float(rng.uniform(100, 400)),
                     gpu=busy)  # fmt: skip
            host.run("jupyter-lab", "/opt/conda/bin/python3.11",
                     ("/opt/conda/bin/python", "/opt/conda/bin/jupyter-lab", "--port", "8888"),
                     user="lab", cpu=0.5)  # fmt: skip
        case "mail":
            host.run("master", "/usr/lib/postfix/sbin/master", ("/usr/lib/postfix/sbin/master",
                                                                "-w"))  # fmt: skip
            pid = host.run("smtp", "/usr/lib/postfix/sbin/smtp", ("smtp", "-t", "unix", "-u", "-c"),
                           user="postfix")  # fmt: skip
            host.connect(pid, "202.108.3.190", 25)
        case "files":
            host.run(
                "smbd", "/usr/sbin/smbd", ("/usr/sbin/smbd", "--foreground", "--no-process-group")
            )
            host.run("rsync", "/usr/bin/rsync", ("rsync", "-a", "--delete", "/srv/share/",
                                                 "backup-01:/backup/share/"),
                     cpu=busy, scheduled_by="cron")  # fmt: skip
        case "monitoring":
            host.run("prometheus", "/usr/bin/prometheus",
                     ("/usr/bin/prometheus", "--config.file=/etc/prometheus/prometheus.yml"),
                     user="prometheus", cpu=float(rng.uniform(5, 60)))  # fmt: skip
            pid = host.run("adb", "/usr/lib/android-sdk/platform-tools/adb",
                           ("adb", "-P", "5037", "fork-server", "server"), user="ops")  # fmt: skip
            host.connect(pid, "192.168.50.21", 5555)  # a test handset on the lab's network
        case "containers":
            host.run("containerd", "/usr/bin/containerd", ("/usr/bin/containerd",), cpu=2.0)
            host.run("runc", "/memfd:runc_cloned:/proc/self/exe", ("runc", "init"),
                     deleted=True)  # fmt: skip
            host.run("java", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
                     ("java", "-Xmx8g", "-jar", "/app/orders.jar"), user="app",
                     cpu=float(rng.uniform(10, 150)))  # fmt: skip
        case _:
            host.run("java", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
                     ("java", "-Xms2g", "-Xmx4g", "-Dcatalina.base=/opt/tomcat",
                      "org.apache.catalina.startup.Bootstrap", "start"), user="tomcat",
                     cpu=float(rng.uniform(1, 80)))  # fmt: skip
            host.connect(None, "10.0.0.40", 3306)


def _wallet(rng: np.random.Generator) -> str:
    """A Monero primary address's shape: 95 base58 characters, ``4`` then one of ``1-9AB``."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    second = "123456789AB"[int(rng.integers(11))]
    return "4" + second + "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), 93))


def _pool(rng: np.random.Generator) -> tuple[str, str, int]:
    host = _POOLS[int(rng.integers(len(_POOLS)))]
    address = f"{int(rng.choice([47, 104, 148, 172, 185]))}.{int(rng.integers(1, 255))}." \
              f"{int(rng.integers(0, 255))}.{int(rng.integers(1, 255))}"  # fmt: skip
    return host, address, int(rng.choice(_POOL_PORTS))


def _miner(host: _Host, server: Server) -> None:
    rng = host.rng
    name, address, port = _pool(rng)
    wallet = _wallet(rng)
    threads = str(max(1, server.cpu_count - 2))
    load = server.cpu_count * float(rng.uniform(85, 99))
    match server.miner:
        case "plain":
            pid = host.run("xmrig", "/opt/xmrig-6.21.0/xmrig", ("./xmrig", "-c", "config.json"),
                           user="lab", cpu=load)  # fmt: skip
            host.connect(pid, address, port)
            host.files += [
                {"path": "/opt/xmrig-6.21.0/xmrig", "size": 8_312_064,
                 "sha256": "".join(f"{int(b):02x}" for b in rng.integers(0, 256, 32)),
                 "excerpts": []},
                {"path": "/opt/xmrig-6.21.0/config.json", "size": 2_201, "sha256": None,
                 "excerpts": ['"donate-level": 1,', f'"url": "{name}:{port}",']},
            ]  # fmt: skip
        case "renamed":
            argv = ("/var/tmp/.systemd-resolve", "-o", f"stratum+tcp://{name}:{port}", "-u",
                    wallet, "-t", threads)  # fmt: skip
            pid = host.run("systemd-resolve", argv[0], argv, user="www-data", cpu=load,
                           scheduled_by="cron")  # fmt: skip
            host.connect(pid, address, port)
            host.persistence.append({"kind": "cron", "path": "/var/spool/cron/crontabs/www-data",
                                     "line": "*/5 * * * * " + " ".join(argv)})  # fmt: skip
        case "kernel_thread":
            pid = host.run("[kworker/0:2]", "/dev/shm/.x/kworker", ("[kworker/0:2]",),
                           user="nobody", cpu=load)  # fmt: skip
            host.connect(pid, address, 443)
        case "deleted":
            pid = host.run("netupd", "/tmp/.cache/netupd", ("netupd",), deleted=True, cpu=load)
            host.connect(pid, address, port)
        case "gpu":
            argv = ("python3", "-a", "kawpow", "-o", f"stratum+tcp://{name}:{port}", "-u",
                    f"R{_wallet(rng)[1:34]}.{server.hostname}")  # fmt: skip
            cpu, gpu = float(rng.uniform(20, 60)), float(rng.uniform(95, 100))
            pid = host.run("python3", "/home/lab/.local/bin/python3", argv, user="lab", cpu=cpu,
                           gpu=gpu)  # fmt: skip
            host.connect(pid, address, port)
        case "service":
            pid = host.run("nethelper", "/usr/local/bin/nethelper", ("/usr/local/bin/nethelper",),
                           cpu=load, scheduled_by="systemd:nethelper.service")  # fmt: skip
            host.connect(pid, address, port)
            host.persistence.append({"kind": "systemd",
                                     "path": "/etc/systemd/system/nethelper.service",
                                     "line": "ExecStart=/usr/local/bin/nethelper"})  # fmt: skip
            host.files.append({"path": "/usr/local/etc/nethelper/config.json", "size": 1_502,
                               "sha256": None,
                               "excerpts": ['"donate-level": 0,', '"rig-id": null,']})  # fmt: skip
        case "memory":
            pid = host.run("bash", "/memfd:x (deleted)", ("bash",), deleted=True, cpu=load)
            host.connect(pid, address, port)
        case _:
            raise ValueError(f"unknown disguise {server.miner!r}")


def probe_report(server: Server, seed: int, collected_at: datetime,
                 *, miner: bool | None = None) -> dict[str, Any]:  # fmt: skip
    """The probe's report on ``server`` at ``collected_at`` (unsigned); ``miner=False`` gives
    the report after the miner was removed."""
    rng = np.random.default_rng([seed, int(server.asset_id.split("-")[-1]),
                                 int(collected_at.timestamp())])  # fmt: skip
    host = _Host(rng)
    _base(host)
    _workload(host, server)
    if server.miner is not None and miner is not False:
        _miner(host, server)
    # reported files are the ones that matched the probe's hints; a pool-settings file does not
    host.files = [f for f in host.files if f["excerpts"] or f.get("sha256")]
    return {
        "probe_version": 1, "hostname": server.hostname, "kernel": "6.1.0-27-amd64",
        "collected_at": collected_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "window_s": 2.0,
        "processes": host.processes, "connections": host.connections,
        "persistence": host.persistence, "files": host.files, "macs": list(server.macs),
        "ips": list(server.ips),
    }  # fmt: skip


def inventory_rows(servers: list[Server], unit: str) -> list[list[str]]:
    """The servers as rows of an inventory file (headers :data:`INVENTORY_HEADER`)."""
    return [
        [s.asset_id, unit, s.department, s.room, s.rack, s.hostname, " ".join(s.ips),
         " ".join(s.macs), s.owner, s.purpose_text, str(s.cpu_count), str(s.gpu_count or "")]
        for s in servers
    ]  # fmt: skip


INVENTORY_HEADER = ["资产编号", "所属单位", "使用部门", "机房", "机柜", "主机名", "IP地址",
                    "MAC地址", "责任人", "用途", "CPU数量", "GPU数量"]  # fmt: skip
