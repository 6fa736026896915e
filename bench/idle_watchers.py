"""Memory and CPU of IMAP IDLE watchers (services/imap_idle.py), per watched box, on the real test Dovecot.

Usage: python bench/idle_watchers.py [N]  (default 200; COMUNIK_TEST_PORT_OFFSET shifts the ports).
No Odoo: what one box costs in a comunik_idle process (its thread, TLS session, imapclient objects).
"""

import os
import resource
import sys
import time
import types
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for package, folder in (
    ("comunik_mail", ROOT / "comunik_mail"),
    ("comunik_mail.services", ROOT / "comunik_mail" / "services"),
):
    module = types.ModuleType(package)
    module.__path__ = [str(folder)]
    sys.modules[package] = module

from comunik_mail.services import connection, imap_idle  # noqa: E402
from comunik_support import servers  # noqa: E402


def rss_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(count):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # Dovecot's default_process_limit is 100 IMAP sessions: a real server for many boxes raises it.
    dovecot = servers.DovecotServer(max_connections=count + 50)
    dovecot.start()
    os.environ[connection.CA_FILE_ENV] = dovecot.ca_file
    try:
        logins = [f"bench-{index}-{uuid.uuid4().hex[:6]}@example.test" for index in range(count)]
        for login in logins:
            dovecot.add_user(login, "pw")
        stop = imap_idle.StopSignal()
        events = []
        before_rss, started = rss_kb(), time.monotonic()
        boxes = [
            imap_idle.BoxWatcher(
                lambda login=login: connection.ServerSettings(servers.HOST, dovecot.imaps_port, "ssl", login, "pw", 15),
                ["INBOX"],
                on_event=events.append,
                stop=stop,
            ).start(login)
            for login in logins
        ]
        while sum(box.state == imap_idle.WATCHING for box in boxes) < count:
            if time.monotonic() - started > 300:
                raise SystemExit(f"only {sum(box.state == imap_idle.WATCHING for box in boxes)} watching")
            time.sleep(0.2)
        connected = time.monotonic() - started
        time.sleep(2)
        after_rss = rss_kb()
        cpu_start, wall_start = cpu(), time.monotonic()
        time.sleep(30)
        idle_cpu = (cpu() - cpu_start) / (time.monotonic() - wall_start)
        sent = time.time()
        dovecot.append(logins[count // 2], b"Subject: bench\r\n\r\nhello\r\n")
        while not events:
            time.sleep(0.005)
        push = events[0].at - sent
        print(
            f"{count} boxes watching in {connected:.1f}s; RSS {before_rss} -> {after_rss} kB "
            f"({(after_rss - before_rss) / count:.0f} kB per box); idle CPU {idle_cpu * 100:.3f}% of a core "
            f"for all of them; APPEND -> IDLE event {push * 1000:.0f} ms"
        )
        stop.set()
        for box in boxes:
            box.stop(5)
    finally:
        dovecot.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
