"""Local demo mail servers for ``bin/run``: a Dovecot with seeded French mailboxes and an SMTP sink.

    python demo/demo_servers.py start DIR   # start (or reuse) both, seed mailboxes once, print the CA file
    python demo/demo_servers.py stop DIR
    python demo/demo_servers.py smtp DIR    # (internal) the SMTP sink process, writing .eml files to DIR/sent

bin/run starts it with the repository root on PYTHONPATH (for comunik_support); by hand: PYTHONPATH=. python ...
The demo emails are the .eml files of comunik_support/demo_mail/.

Ports (loopback): IMAPS 29993, IMAP 29143, SMTPS 29465, SMTP 29587. Password of every demo mailbox: ``demo``.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from comunik_support import corpus, servers

IMAPS_PORT, IMAP_PORT, SMTPS_PORT, SMTP_PORT = 29993, 29143, 29465, 29587
PASSWORD = "demo"


def _dovecot(workdir):
    return servers.DovecotServer(str(workdir / "dovecot"), imaps_port=IMAPS_PORT, imap_port=IMAP_PORT)


def start(workdir):
    workdir.mkdir(parents=True, exist_ok=True)
    dovecot = _dovecot(workdir)
    if not servers._accepts(IMAPS_PORT):
        dovecot.start()
    seeded = workdir / "seeded"
    if not seeded.exists():
        for login, mails in corpus.demo_mailboxes(datetime.now(UTC)).items():
            dovecot.add_user(login, PASSWORD)
            for mail in mails:
                dovecot.append(login, mail.raw, flags=mail.flags, date=mail.date)
        seeded.write_text("ok\n")
    if not servers._accepts(SMTPS_PORT):
        log = open(workdir / "smtp.log", "ab")  # noqa: SIM115 - handed over to the child process
        subprocess.Popen(
            [sys.executable, __file__, "smtp", str(workdir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while not servers._accepts(SMTPS_PORT) and time.monotonic() < deadline:
            time.sleep(0.2)
    print(dovecot.ca_file)


def stop(workdir):
    _dovecot(workdir).stop()
    pid_file = workdir / "smtp.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass
        pid_file.unlink()


def serve_smtp(workdir):
    """SMTP sink for the demo: accepts the demo mailboxes' logins, stores every email under sent/."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})  # delivered to sigwait below
    dovecot = _dovecot(workdir)
    sent = workdir / "sent"
    sent.mkdir(exist_ok=True)
    sink = servers.SmtpSink(
        cert_file=dovecot.ca_file,
        key_file=dovecot.key_file,
        smtps_port=SMTPS_PORT,
        smtp_port=SMTP_PORT,
        on_message=lambda message: (sent / f"{time.time():.6f}.eml").write_bytes(message["data"]),
    )
    for login in corpus.MAILBOXES:
        sink.add_user(login, PASSWORD)
    sink.start()
    (workdir / "smtp.pid").write_text(str(os.getpid()))
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    sink.stop()


if __name__ == "__main__":
    command, directory = sys.argv[1], Path(sys.argv[2])
    {"start": start, "stop": stop, "smtp": serve_smtp}[command](directory)
