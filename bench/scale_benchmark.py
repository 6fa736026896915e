"""Scale benchmark: N boxes behind a distant-server proxy, synced by real Odoo cron workers, in one run.

Run by bin/benchmark-scale (which installs the database). Every box is a real Dovecot mailbox reached through
comunik_support.latency_proxy (TLS on, BENCH_DELAY seconds added each way). Each pass appends one new email to
every box, wakes the sync jobs (ir_cron_trigger + NOTIFY, as ``ir.cron._trigger`` does) and times, from the
database, when each box's new conversation was stored. Odoo runs in its production shape: prefork
(``--workers``), its cron workers being separate processes (``--max-cron-threads``).

Then ``odoo-bin comunik_idle`` watches every box (no cron runs): IDLE_N emails are appended one by one and the
time until each conversation is stored is measured; and the watcher's memory and CPU for N boxes.

Prints: the full pass with 1, 2 and 4 cron workers and with 2 Odoo servers on the same database; the effect of
one unreachable host; the in-job threads (``comunik_mail.sync_threads``) against one box at a time.
"""

import concurrent.futures
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import psycopg2

from comunik_support.latency_proxy import LatencyProxy
from comunik_support.servers import HOST, DovecotServer

DB = os.environ["BENCH_DB"]
N = int(os.environ.get("BENCH_N", "1000"))
DELAY = float(os.environ.get("BENCH_DELAY", "0.05"))
THREADS = int(os.environ.get("BENCH_SYNC_THREADS", "8"))
#: comunik_idle's sync workers (boxes it syncs at once after new mail).
IDLE_WORKERS = int(os.environ.get("BENCH_IDLE_WORKERS", "16"))
#: What to measure (comma-separated): passes (1, 2, 4 cron workers), servers (2 Odoo servers), dead (one host
#: unreachable), design (in-job threads against one box at a time), idle (comunik_idle push), native (Odoo's fetchmail
#: on NATIVE_N boxes against our 4 cron workers on the same boxes).
PARTS = os.environ.get("BENCH_PARTS", "passes,servers,dead,design,idle,native").split(",")
#: Boxes receiving an email while comunik_idle watches every box (arrival latency).
IDLE_N = int(os.environ.get("BENCH_IDLE_N", str(min(N, 200))))
#: Boxes polled by Odoo's native fetchmail, for the comparison (it takes them one after the other: a subset).
NATIVE_N = int(os.environ.get("BENCH_NATIVE_N", str(min(N, 50))))
#: Boxes of the design comparison (one box at a time per job is slow: a subset keeps the run short).
COMPARE_N = int(os.environ.get("BENCH_COMPARE_N", str(min(N, 200))))
ODOO_SRC = os.environ.get("ODOO_SRC", "/opt/odoo-19.0")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "bench-scale"
PASS_TIMEOUT = 900
#: Path prefix of py-spy profiles of the Odoo servers (optional; py-spy must be installed).
PROFILE = os.environ.get("BENCH_PROFILE")
SETTLE_TIMEOUT = 300
#: Cron workers of the single-server passes (comma-separated).
CRONS = [int(value) for value in os.environ.get("BENCH_CRONS", "1,2,4").split(",")]


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def odoo_command(*args):
    return [sys.executable, os.path.join(ODOO_SRC, "odoo-bin"), f"--addons-path={ODOO_SRC}/addons,{ROOT}", *args]


def odoo_shell(script):
    """Run ``script`` in `odoo-bin shell` on the benchmark database (committed by the script)."""
    done = subprocess.run(
        odoo_command("shell", "-d", DB, "--no-http", "--log-level=warn"),
        input=script,
        text=True,
        capture_output=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return done.stdout


SETUP = """
import json
from odoo.addons.comunik_mail.models.comunik_mail_account import SYNC_JOBS
env["ir.config_parameter"].set_param("comunik_mail.allowed_private_hosts", "127.0.0.1")
env["ir.config_parameter"].set_param("comunik_mail.sync_interval_seconds", "0")
Account = env["comunik.mail.account"].with_context(tracking_disable=True)
def box(email, port):
    return Account.create({{
        "email": email, "category": "shared", "sync_period": "week",
        "imap_host": "127.0.0.1", "imap_port": port, "imap_encryption": "ssl", "imap_password": {password!r},
        "smtp_host": "127.0.0.1", "smtp_port": 465, "sync_enabled": True,
    }})
dead = box("dead@unreachable.test", {dead_port})  # first: claimed first, the worst place for it
dead.sync_enabled = False
ids = [box(email, {port}).id for email in {logins!r}]
jobs = [env.ref(x).id for x in SYNC_JOBS]
env["ir.cron"].browse(jobs).write({{"nextcall": "2999-01-01 00:00:00"}})  # only our triggers run them
env.cr.commit()
print("RESULT " + json.dumps({{"ids": ids, "dead": dead.id, "jobs": jobs}}))
"""


def new_email(login, tag):
    msg = EmailMessage()
    msg["From"] = f"Client <client-{uuid.uuid4().hex[:8]}@customer.example>"
    msg["To"] = login
    msg["Subject"] = f"Demande {tag}"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@customer.example>"
    msg.set_content("Bonjour, pouvez-vous me rappeler ?")
    return msg.as_bytes()


class OdooServers:
    """``count`` real Odoo servers (prefork) on the benchmark database, ``crons`` cron workers each."""

    def __init__(self, count, crons):
        self.processes = []
        self.count, self.crons = count, crons

    def __enter__(self):
        for _index in range(self.count):
            port = free_port()
            command = odoo_command(
                "-d", DB, f"--db-filter=^{DB}$", "--http-interface=127.0.0.1", f"--http-port={port}",
                f"--gevent-port={free_port()}", "--workers=2", f"--max-cron-threads={self.crons}",
                "--limit-time-real-cron=900", "--limit-time-cpu=900", "--limit-time-real=900",
                "--limit-memory-soft=4294967296", "--limit-memory-hard=6442450944", "--log-level=warn",
            )  # fmt: skip
            log = open(os.path.join(os.environ.get("BENCH_LOG_DIR", "/tmp"), f"bench-scale-odoo-{port}.log"), "w")  # noqa: SIM115
            self.processes.append(
                subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )
            wait_for(lambda port=port: accepts(port), 60, "Odoo did not start")
        if PROFILE:  # sampled profile of the servers and their cron workers, folded stacks (flamegraph input)
            spy = os.path.join(sys.prefix, "bin", "py-spy")
            self.profilers = [
                subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--subprocesses",
                        "--nonblocking",
                        "--format",
                        "raw",
                        "-o",
                        f"{PROFILE}.{process.pid}.txt",
                        "--pid",
                        str(process.pid),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
                for process in self.processes
            ]
        return self

    def __exit__(self, *exc):
        for profiler in getattr(self, "profilers", ()):
            profiler.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
            profiler.wait(60)
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def accepts(port):
    try:
        socket.create_connection((HOST, port), timeout=1).close()
        return True
    except OSError:
        return False


CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(dovecot_pid):
    """CPU seconds used so far by group: the Odoo servers and their workers, this database's PostgreSQL
    backends, the benchmark's Dovecot (its master and children), and this process (the latency proxy's
    threads). Other processes on the machine are left out, so the figures hold whatever else loads it; the
    CPU of children reaped by their parent counts in the parent."""
    processes = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                values = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ")
        except OSError:
            continue  # exited meanwhile
        ticks = sum(int(value) for value in values[11:15])  # utime stime cutime cstime
        processes[int(pid)] = (int(values[1]), command, ticks / CLOCK_TICK)

    def under(pid, root):
        while pid > 1:
            if pid == root:
                return True
            pid = processes[pid][0] if pid in processes else 0
        return False

    totals = {}
    for pid, (_ppid, command, seconds) in processes.items():
        if pid == os.getpid():
            group = "proxy+bench"
        elif b"odoo-bin" in command and DB.encode() in command:
            group = "odoo"
        elif command.startswith(b"postgres: ") and f" {DB} ".encode() in command:
            group = "postgres"
        elif dovecot_pid and under(pid, dovecot_pid):
            group = "dovecot"
        else:
            continue
        totals[group] = totals.get(group, 0.0) + seconds
    return totals


def cpu_used(before, after):
    return {group: after.get(group, 0.0) - before.get(group, 0.0) for group in sorted(after)}


def wait_for(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(message)
        time.sleep(0.2)


class Bench:
    def __init__(self):
        self.dovecot = DovecotServer(
            imaps_port=38993,
            imap_port=38143,  # not the tests' nor the sync benchmark's
            max_connections=max(2 * N, 200) + 100,
        )
        self.proxy = LatencyProxy(None, delay=DELAY)
        self.dead_proxy = LatencyProxy(blackhole=True)
        self.conn = None
        self.ids, self.dead, self.jobs = [], None, []
        self.logins = [f"box{index:04d}@scale.example" for index in range(N)]
        self.passes = 0

    # ------------------------------------------------------------------ setup

    def start(self):
        self.dovecot.start()
        os.environ["COMUNIK_MAIL_CA_FILE"] = self.dovecot.ca_file  # inherited by the Odoo servers
        self.proxy.target = (HOST, self.dovecot.imaps_port)
        self.proxy.start()
        self.dead_proxy.start()
        started = time.perf_counter()
        for login in self.logins:
            self.dovecot.add_user(login, PASSWORD)
        print(f"setup:   {N} Dovecot mailboxes in {time.perf_counter() - started:.1f}s", flush=True)
        started = time.perf_counter()
        out = odoo_shell(
            SETUP.format(password=PASSWORD, port=self.proxy.port, dead_port=self.dead_proxy.port, logins=self.logins)
        )
        result = json.loads([line for line in out.splitlines() if line.startswith("RESULT ")][-1][7:])
        self.ids, self.dead, self.jobs = result["ids"], result["dead"], result["jobs"]
        print(f"setup:   {N} boxes created in Odoo in {time.perf_counter() - started:.1f}s", flush=True)
        self.conn = psycopg2.connect(dbname=DB)
        self.conn.autocommit = True

    def stop(self):
        for part in (self.proxy, self.dead_proxy, self.dovecot):
            try:
                part.stop()
            except Exception as exc:  # noqa: BLE001 - stop the others anyway
                print(f"stopping {part}: {exc}")

    def sql(self, query, params=()):
        with self.conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None

    def set_param(self, key, value):
        self.sql(
            "INSERT INTO ir_config_parameter (key, value, create_uid, write_uid, create_date, write_date) "
            "VALUES (%s, %s, 1, 1, now(), now()) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, str(value)),
        )

    # ------------------------------------------------------------------ one pass

    def trigger(self):
        self.sql(
            "INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, write_uid, create_date, write_date) "
            "SELECT id, now() AT TIME ZONE 'UTC', 1, 1, now(), now() FROM unnest(%s::int[]) AS id",
            (self.jobs,),
        )
        # Cron workers LISTEN on the "postgres" database (a NOTIFY reaches listeners of its own database only).
        notify = psycopg2.connect(dbname="postgres")
        notify.autocommit = True
        with notify.cursor() as cr:
            cr.execute("SELECT pg_notify('cron_trigger', %s)", (DB,))
        notify.close()

    def warm_up(self):
        """Each cron worker loads the registry on its first job: done here, outside the timed pass, by a run
        that finds no box due."""
        self.set_param("comunik_mail.sync_interval_seconds", 10**7)
        self.sql("UPDATE comunik_mail_account SET sync_attempt_date = now() AT TIME ZONE 'UTC'")
        self.trigger()
        wait_for(lambda: not self.sql("SELECT 1 FROM ir_cron_trigger WHERE cron_id = ANY(%s)", (self.jobs,)),
                 120, "the sync jobs did not run")  # fmt: skip
        time.sleep(2)
        self.set_param("comunik_mail.sync_interval_seconds", 0)

    def run_pass(self, boxes, with_dead=False):
        """Append one email to each box, wake the jobs; return the seconds until each box's email was stored."""
        self.passes += 1
        tag = f"pass {self.passes}"
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda login: self.dovecot.append(login, new_email(login, tag)), boxes_logins(self, boxes)))
        self.sql("UPDATE comunik_mail_account SET sync_attempt_date = NULL, sync_enabled = id = ANY(%s)",
                 (list(boxes) + ([self.dead] if with_dead else []),))  # fmt: skip
        started_db = self.sql("SELECT clock_timestamp() AT TIME ZONE 'UTC'")[0][0]
        cpu_before = cpu_snapshot(self.dovecot._pid)
        started = time.monotonic()
        self.trigger()

        def arrived():
            return self.sql(
                "SELECT count(*) FROM comunik_mail_conversation WHERE account_id = ANY(%s) AND subject = %s",
                (list(boxes), f"Demande {tag}"),
            )[0][0]

        wait_for(lambda: arrived() >= len(boxes), PASS_TIMEOUT, f"{tag}: not every box was synced")
        wall = time.monotonic() - started
        cpu = cpu_used(cpu_before, cpu_snapshot(self.dovecot._pid))
        delays = [
            (row[0] - started_db).total_seconds()
            for row in self.sql(
                "SELECT create_date FROM comunik_mail_conversation WHERE account_id = ANY(%s) AND subject = %s",
                (list(boxes), f"Demande {tag}"),
            )
        ]
        # Let the jobs finish (the dead box's timeout) before the next pass or server stop; a box still running
        # after that is reported, not fatal (the next pass's jobs reset it when its lock is free).
        try:
            wait_for(lambda: not self.sql("SELECT 1 FROM comunik_mail_account WHERE sync_state = 'running'"),
                     SETTLE_TIMEOUT, "a sync is still running")  # fmt: skip
        except RuntimeError:
            running = self.sql("SELECT id FROM comunik_mail_account WHERE sync_state = 'running'")
            print(f"{tag}: {len(running)} box(es) still running {SETTLE_TIMEOUT}s after the pass", flush=True)
        return wall, delays, cpu

    def measure(self, label, servers, crons, boxes=None, with_dead=False, threads=THREADS):
        boxes = boxes or self.ids
        self.set_param("comunik_mail.sync_threads", threads)
        with OdooServers(servers, crons):
            self.warm_up()
            wall, delays, cpu = self.run_pass(boxes, with_dead)
        delays.sort()
        print(
            f"{label:<46} {len(boxes)} boxes in {wall:6.1f}s = {len(boxes) / wall:5.1f} boxes/s; "
            f"stored after p50 {delays[len(delays) // 2]:.1f}s, p95 {delays[int(len(delays) * 0.95) - 1]:.1f}s, "
            f"max {delays[-1]:.1f}s",
            flush=True,
        )
        print(
            f"{'':<46} CPU per box: "
            + ", ".join(f"{group} {seconds / len(boxes) * 1000:.0f} ms" for group, seconds in cpu.items()),
            flush=True,
        )
        return wall, delays


class IdleProcess:
    """A real `odoo-bin comunik_idle` process on the benchmark database; its stats read from its log."""

    def __init__(self):
        self.log_path = os.path.join(os.environ.get("BENCH_LOG_DIR", "/tmp"), "bench-scale-idle.log")
        self.process = None

    def __enter__(self):
        command = [
            sys.executable, os.path.join(ODOO_SRC, "odoo-bin"), f"--addons-path={ODOO_SRC}/addons,{ROOT}",
            "comunik_idle", "-d", DB, "--stats-interval=2", "--log-level=info", f"--sync-workers={IDLE_WORKERS}",
        ]  # fmt: skip
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()

    def stats(self):
        with open(self.log_path) as log:
            lines = [line for line in log if "comunik_idle: stats " in line]
        return json.loads(lines[-1].split("comunik_idle: stats ", 1)[1]) if lines else {}

    def cpu_seconds(self):
        """User + system CPU of the process (all threads), from /proc."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_idle(bench):
    """comunik_idle on every box: memory and CPU per 1,000 boxes watched, then IDLE_N arrivals one by one."""
    bench.sql("UPDATE comunik_mail_account SET sync_enabled = id = ANY(%s), sync_attempt_date = NULL", (bench.ids,))
    with IdleProcess() as idle:
        started = time.monotonic()

        def watching():
            assert idle.process.poll() is None, "comunik_idle exited; see " + idle.log_path
            return idle.stats().get("states", {}).get("watching", 0) >= len(bench.ids)

        wait_for(watching, 600, "comunik_idle did not watch every box")
        print(f"idle:    {len(bench.ids)} boxes watched {time.monotonic() - started:.1f}s after start", flush=True)
        time.sleep(5)
        cpu_before, window = idle.cpu_seconds(), 20.0
        time.sleep(window)
        idle_cpu = (idle.cpu_seconds() - cpu_before) / window * 100
        rss_mb = idle.stats()["rss_kb"] / 1024
        print(
            f"idle:    comunik_idle RSS {rss_mb:.0f} MiB watching {len(bench.ids)} boxes (Odoo registry included), "
            f"CPU {idle_cpu:.2f}% of a core while waiting",
            flush=True,
        )
        bench.passes += 1
        tag = f"push {bench.passes}"
        logins = boxes_logins(bench, bench.ids[:IDLE_N])
        cpu_before = idle.cpu_seconds()
        sent, seen = {}, {}
        for index, login in enumerate(logins):
            raw = new_email(login, f"{tag} {index}")
            sent[f"Demande {tag} {index}"] = time.monotonic()
            bench.dovecot.append(login, raw)
            time.sleep(0.2)  # arrivals spread over time (5 a second), as in a busy shared inbox
            poll_arrivals(bench, tag, sent, seen)
        deadline = time.monotonic() + 120
        while len(seen) < len(sent) and time.monotonic() < deadline:
            poll_arrivals(bench, tag, sent, seen)
            time.sleep(0.05)
        busy_cpu = idle.cpu_seconds() - cpu_before
    latencies = sorted(seen.values())
    lost = len(sent) - len(seen)
    print(
        f"idle:    {len(latencies)}/{len(sent)} pushed emails stored after p50 {latencies[len(latencies) // 2]:.2f}s, "
        f"p95 {latencies[max(int(len(latencies) * 0.95) - 1, 0)]:.2f}s, max {latencies[-1]:.2f}s "
        f"(APPEND to committed conversation; {lost} not arrived within 2 min); "
        f"comunik_idle CPU {busy_cpu:.1f}s for them",
        flush=True,
    )


def poll_arrivals(bench, tag, sent, seen):
    now = time.monotonic()
    rows = bench.sql("SELECT subject FROM comunik_mail_conversation WHERE subject LIKE %s", (f"Demande {tag} %",))
    for (subject,) in rows:
        if subject not in seen and subject in sent:
            seen[subject] = now - sent[subject]


NATIVE = """
import json, time
servers = env["comunik.mail.account"].browse({ids!r}).mapped("fetchmail_server_id").sudo()
model = env["ir.model"]._get_id("comunik.mail.conversation")
servers.write({{"state": "done", "object_id": model}})
env.cr.commit()
started = time.perf_counter()
servers._fetch_mail()  # what Odoo's « Mail: Fetchmail Service » job runs: one server after the other
seconds = time.perf_counter() - started
servers.write({{"state": "draft"}})  # the other parts' Odoo servers must not run it
env.cr.commit()
print("RESULT " + json.dumps({{"seconds": seconds}}))
"""


def measure_native(bench):
    """Odoo's native fetchmail on NATIVE_N boxes with one new email each, then our 4 cron workers on the same."""
    boxes = bench.ids[:NATIVE_N]
    bench.passes += 1
    tag = f"native {bench.passes}"
    for login in boxes_logins(bench, boxes):
        bench.dovecot.mark_all_seen(login)  # fetchmail takes unseen mail: the earlier passes' must not count
        bench.dovecot.append(login, new_email(login, tag))
    out = odoo_shell(NATIVE.format(ids=boxes))
    seconds = json.loads([line for line in out.splitlines() if line.startswith("RESULT ")][-1][7:])["seconds"]
    stored = bench.sql("SELECT count(*) FROM comunik_mail_conversation WHERE subject = %s", (f"Demande {tag}",))[0][0]
    ours = bench.measure("ours on the same boxes: 4 cron workers", 1, 4, boxes=boxes)[0]
    print(
        f"native:  Odoo's fetchmail {stored}/{len(boxes)} boxes in {seconds:.1f}s = {len(boxes) / seconds:.1f} boxes/s "
        f"(one box after the other: 1,000 boxes = {1000 * seconds / len(boxes):.0f}s); "
        f"ours {seconds / ours:.1f}x faster on the same boxes",
        flush=True,
    )


def boxes_logins(bench, boxes):
    index = {account_id: login for account_id, login in zip(bench.ids, bench.logins, strict=True)}
    return [index[account_id] for account_id in boxes]


def main():
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(1))  # stop the servers when interrupted
    bench = Bench()
    try:
        bench.start()
        print(f"network: every box behind a proxy adding {DELAY * 1000:.0f} ms each way, TLS on", flush=True)
        # First sync of each box (folders listed, period scanned): once, not timed as a pass.
        bench.measure("first sync (folders listed; not a pass)", 1, 4)
        results = {}
        if "passes" in PARTS:
            for crons in CRONS:
                results[crons] = bench.measure(f"pass, 1 server, {crons} cron worker(s) x {THREADS} threads", 1, crons)
        if "servers" in PARTS:
            bench.measure(f"pass, 2 servers x 2 cron workers x {THREADS} threads", 2, 2)
        if "dead" in PARTS:
            wall, delays = bench.measure("pass, 4 cron workers, one host unreachable", 1, 4, with_dead=True)
            base_wall, base_delays = results[4] if 4 in results else bench.measure("pass, 4 cron workers", 1, 4)
            print(
                f"unreachable host: pass {wall - base_wall:+.1f}s, p95 {statistics.quantiles(delays, n=20)[-1] - statistics.quantiles(base_delays, n=20)[-1]:+.1f}s "  # noqa: E501
                "for the other boxes (the dead box's worker thread waits its 15 s timeout; the others go on)",
                flush=True,
            )
        if "design" in PARTS:
            subset = bench.ids[:COMPARE_N]
            one = bench.measure("design: 4 cron workers x 1 box at a time", 1, 4, boxes=subset, threads=1)[0]
            many = bench.measure(f"design: 4 cron workers x {THREADS} threads", 1, 4, boxes=subset)[0]
            print(f"design:  in-job threads {one / many:.1f}x faster than one box at a time per job", flush=True)
        if "idle" in PARTS:
            measure_idle(bench)
        if "native" in PARTS:
            measure_native(bench)
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
