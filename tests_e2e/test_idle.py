"""Push: real `odoo-bin comunik_idle` processes on the test database, the real Dovecot, mail APPENDed by IMAP.

An APPENDed email becomes a conversation within seconds (no cron runs here: only comunik_idle syncs); two
processes share the boxes (each watched exactly once); kill -9 one, the other takes its boxes over.
"""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
import zlib

import psycopg2
import pytest

from comunik_support import servers

from .test_sync_processes import DB, ODOO_SRC, ROOT, last_json, odoo_shell


@pytest.fixture(autouse=True)
def _database():
    if not DB:
        pytest.fail("COMUNIK_E2E_DB is not set: run these tests through bin/test", pytrace=False)


@pytest.fixture(scope="module")
def dovecot():
    server, _smtp = servers.get_servers()
    os.environ["COMUNIK_MAIL_CA_FILE"] = server.ca_file
    return server


def _namespace():
    """comunik_mail/cli/comunik_idle.py's IDLE_LOCK_NAMESPACE."""
    return zlib.crc32(b"comunik_mail.idle") & 0x7FFFFFFF


@pytest.fixture
def boxes(dovecot):
    """Four committed boxes with automatic sync on, empty mailboxes."""
    logins = [f"e2e-idle-{uuid.uuid4().hex[:8]}@example.test" for _index in range(4)]
    for login in logins:
        dovecot.add_user(login, "pw-e2e")
    out = odoo_shell(
        f"""
ids = []
for login in {logins!r}:
    account = env["comunik.mail.account"].create({{
        "email": login, "category": "shared", "sync_period": "week",
        "imap_host": HOST, "imap_port": IMAPS_PORT, "imap_password": "pw-e2e",
        "smtp_host": HOST, "smtp_port": SMTPS_PORT,
    }})
    account.sudo().sync_enabled = True
    ids.append(account.id)
env.cr.commit()
print("RESULT " + json.dumps(ids))
"""
    )
    ids = last_json(out)
    yield dict(zip(ids, logins, strict=True))
    odoo_shell(f'env["comunik.mail.account"].browse({ids!r}).unlink()\nenv.cr.commit()\n')
    for login in logins:
        dovecot.remove_user(login)


class IdleProcess:
    """A real `odoo-bin comunik_idle` process; its log in a file."""

    def __init__(self, tmp_path, name):
        self.log_path = tmp_path / f"{name}.log"
        command = [
            sys.executable,
            os.path.join(ODOO_SRC, "odoo-bin"),
            f"--addons-path={ODOO_SRC}/addons,{ROOT}",
            "comunik_idle",
            "-d",
            DB,
            "--rescan-interval=1",
            "--stats-interval=1",
            "--log-level=info",
        ]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )

    def backend_pid(self):
        """The database session holding this process's locks (logged at start)."""
        match = re.search(r"database session (\d+) holds the locks", self.text())
        return match and int(match.group(1))

    def text(self):
        return self.log_path.read_text(errors="replace")

    def alive(self):
        return self.process.poll() is None

    def terminate(self, timeout=60):
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout)
        self.log.close()
        return self.process.returncode

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        self.log.close()


def holders(ids):
    """``{box id: [backend pids holding its watcher lock]}``."""
    with psycopg2.connect(dbname=DB) as conn, conn.cursor() as cr:
        cr.execute(
            """SELECT objid::bigint, pid FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND classid::bigint = %s AND objid::bigint = ANY(%s)
                  AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
            [_namespace(), list(ids)],
        )
        result = {box_id: [] for box_id in ids}
        for box_id, pid in cr.fetchall():
            result[box_id].append(pid)
        return result


def wait_until(predicate, timeout, processes=(), what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        for process in processes:
            assert process.alive(), process.text()[-4000:]
        assert time.monotonic() < deadline, f"{what} not reached in {timeout}s\n" + "\n".join(
            process.text()[-3000:] for process in processes
        )
        time.sleep(0.1)


def watching(process, login):
    return f"{login.lower()} / INBOX: watching" in process.text()


def conversation_of(marker):
    with psycopg2.connect(dbname=DB) as conn, conn.cursor() as cr:
        cr.execute(
            """SELECT c.id FROM mail_message m JOIN comunik_mail_conversation c ON c.id = m.res_id
                WHERE m.model = 'comunik.mail.conversation' AND m.message_id LIKE %s""",
            [f"%{marker}%"],
        )
        row = cr.fetchone()
        return row and row[0]


def set_sync(box_id, enabled):
    with psycopg2.connect(dbname=DB) as conn, conn.cursor() as cr:
        cr.execute("UPDATE comunik_mail_account SET sync_enabled = %s WHERE id = %s", [enabled, box_id])


def push(dovecot, login, processes):
    """APPEND an email, return (seconds until its conversation exists, conversation id)."""
    marker = uuid.uuid4().hex
    raw = (
        f"From: Client <client@client-dupont.example>\r\nTo: {login}\r\nSubject: Demande urgente {marker[:6]}\r\n"
        f"Message-ID: <idle-{marker}@client-dupont.example>\r\n"
        f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n\r\nBonjour, pouvez-vous ...\r\n"
    ).encode()
    started = time.monotonic()
    dovecot.append(login, raw)
    conversation = wait_until(lambda: conversation_of(marker), 30, processes, f"conversation of {login}")
    return time.monotonic() - started, conversation


def test_append_becomes_a_conversation_within_seconds(dovecot, boxes, tmp_path):
    process = IdleProcess(tmp_path, "idle")
    try:
        wait_until(lambda: all(watching(process, login) for login in boxes.values()), 90, [process], "watching")
        latencies = [push(dovecot, login, [process])[0] for login in boxes.values()]
        latencies += [push(dovecot, next(iter(boxes.values())), [process])[0] for _index in range(3)]
        print(f"APPEND -> conversation: {', '.join(f'{s:.2f}' for s in latencies)} s")  # noqa: T201
        assert max(latencies) < 10, latencies
        assert sorted(latencies)[len(latencies) // 2] < 5, latencies
        assert all(len(pids) == 1 for pids in holders(boxes).values())
        # Automatic sync turned off: the box is dropped at the next rescan; on again: watched again.
        box_id = next(iter(boxes))
        set_sync(box_id, False)
        wait_until(lambda: not holders([box_id])[box_id], 30, [process], "box dropped")
        set_sync(box_id, True)
        wait_until(lambda: holders([box_id])[box_id], 30, [process], "box picked up again")
        assert push(dovecot, boxes[box_id], [process])[0] < 10
    finally:
        returncode = process.terminate()
    assert returncode == 0, process.text()[-3000:]
    assert "comunik_idle: stopped" in process.text()
    assert not any(holders(boxes).values()), "a clean stop releases every lock"


def test_two_processes_share_the_boxes_and_take_over_after_kill(dovecot, boxes, tmp_path):
    first, second = IdleProcess(tmp_path, "first"), IdleProcess(tmp_path, "second")
    processes = [first, second]
    try:

        def shared():
            held = holders(boxes)
            pids = {pid for owners in held.values() for pid in owners}
            return all(len(owners) == 1 for owners in held.values()) and len(pids) == 2 and held

        held = wait_until(shared, 90, processes, "both processes watching")
        per_process = {}
        for box_id, (pid,) in held.items():
            per_process.setdefault(pid, []).append(box_id)
        assert sorted(len(ids) for ids in per_process.values()) == [2, 2], per_process  # fair shares
        assert set(per_process) == {first.backend_pid(), second.backend_pid()}
        for login in boxes.values():
            wait_until(lambda login=login: any(watching(p, login) for p in processes), 60, processes, "watching")
        for login in boxes.values():
            push(dovecot, login, processes)

        victim, survivor = first, second
        victim_boxes = [boxes[box_id] for box_id in per_process[victim.backend_pid()]]
        mark = len(survivor.text())
        victim.kill()
        processes = [survivor]
        started = time.monotonic()
        survivor_only = {(survivor.backend_pid(),)}
        wait_until(
            lambda: {tuple(owners) for owners in holders(boxes).values()} == survivor_only, 60, processes, "take over"
        )
        for login in victim_boxes:
            wait_until(
                lambda login=login: f"{login} / INBOX: watching" in survivor.text()[mark:],
                60,
                processes,
                f"{login} taken over",
            )
        takeover = time.monotonic() - started
        print(f"take over after kill -9: {takeover:.1f} s")  # noqa: T201
        assert takeover < 30
        latency, _conversation = push(dovecot, victim_boxes[0], processes)
        print(f"APPEND -> conversation after take over: {latency:.2f} s")  # noqa: T201
        assert latency < 10
    finally:
        for process in (first, second):
            if process.alive():
                process.terminate()
