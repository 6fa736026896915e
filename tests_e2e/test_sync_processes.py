"""Sync engine against real, separate Odoo processes: crash (kill -9) and concurrent runs.

These cannot live in Odoo's own test runner, whose transaction is never committed.
bin/test runs them on the freshly installed test database (COMUNIK_E2E_DB).
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import psycopg2
import pytest

from comunik_support import poison, servers

DB = os.environ.get("COMUNIK_E2E_DB")
ODOO_SRC = os.environ.get("ODOO_SRC", "/opt/odoo-19.0")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _database():
    """These tests need the database bin/test just installed: fail loudly rather than skip."""
    if not DB:
        pytest.fail("COMUNIK_E2E_DB is not set: run these tests through bin/test", pytrace=False)


SHELL_PRELUDE = """
import json, sys
from comunik_support.servers import HOST, IMAPS_PORT, SMTPS_PORT
"""


def odoo_shell(script, env_extra=None, wait=True):
    """Run ``script`` in a real `odoo-bin shell` process on the test database."""
    command = [
        sys.executable,
        os.path.join(ODOO_SRC, "odoo-bin"),
        "shell",
        f"--addons-path={ODOO_SRC}/addons,{ROOT}",
        "-d",
        DB,
        "--no-http",
        "--log-level=warn",
    ]
    env = dict(os.environ, **(env_extra or {}))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))  # comunik_support
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        start_new_session=True,
    )
    process.stdin.write(SHELL_PRELUDE + script)
    process.stdin.close()
    process.stdin = None  # lets communicate() skip the closed pipe
    if not wait:
        return process
    out, err = process.stdout.read(), process.stderr.read()
    process.wait(timeout=600)
    assert process.returncode == 0, err[-3000:]
    return out


def last_json(output):
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, output[-2000:]
    return json.loads(lines[-1][len("RESULT ") :])


@pytest.fixture(scope="module")
def dovecot():
    server, _smtp = servers.get_servers()
    os.environ["COMUNIK_MAIL_CA_FILE"] = server.ca_file
    return server


@pytest.fixture
def account(dovecot):
    """A committed account on a fresh mailbox; removed (with its emails) afterwards."""
    login = f"e2e-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(login, "pw-e2e")
    out = odoo_shell(
        f"""
account = env["comunik.mail.account"].create({{
    "email": "{login}", "category": "shared", "sync_period": "week",
    "imap_host": HOST, "imap_port": IMAPS_PORT, "imap_password": "pw-e2e",
    "smtp_host": HOST, "smtp_port": SMTPS_PORT,
}})
env.cr.commit()
print("RESULT " + json.dumps({{"id": account.id}}))
"""
    )
    account_id = last_json(out)["id"]
    yield login, account_id
    odoo_shell(f'env["comunik.mail.account"].browse({account_id}).unlink()\nenv.cr.commit()\n')
    dovecot.remove_user(login)


def fill(dovecot, login, count):
    raws = []
    for index in range(count):
        raws.append(
            (
                f"From: Client {index} <client{index}@client-dupont.example>\r\n"
                f"To: {login}\r\nSubject: Demande {index}\r\n"
                f"Message-ID: <e2e-{index}-{uuid.uuid4().hex}@client-dupont.example>\r\n"
                f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n\r\n"
                f"Bonjour, ceci est la demande {index}.\r\n"
            ).encode()
        )
    dovecot.append_many(login, raws)


def stored(account_id):
    with psycopg2.connect(dbname=DB) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT count(*), count(DISTINCT message_id) FROM mail_message WHERE comunik_account_id = %s",
            [account_id],
        )
        return cr.fetchone()


def sync_script(account_id, batch_size):
    return f"""
result = env["comunik.mail.account"].browse({account_id})._sync(time_budget=600, batch_size={batch_size})
print("RESULT " + json.dumps(result))
"""


def test_killed_sync_resumes_with_every_message_once(dovecot, account):
    login, account_id = account
    total = 600
    fill(dovecot, login, total)
    env_extra = {"COMUNIK_MAIL_CA_FILE": dovecot.ca_file}
    process = odoo_shell(sync_script(account_id, 25), env_extra, wait=False)
    deadline = time.monotonic() + 300
    while stored(account_id)[0] < 100:
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "the sync made no progress"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    partial = stored(account_id)[0]
    assert 100 <= partial < total, "the kill must happen mid-sync"
    result = last_json(odoo_shell(sync_script(account_id, 25), env_extra))
    assert result["state"] == "ok"
    assert stored(account_id) == (total, total)


def test_concurrent_syncs_add_nothing_twice(dovecot, account):
    login, account_id = account
    total = 300
    fill(dovecot, login, total)
    env_extra = {"COMUNIK_MAIL_CA_FILE": dovecot.ca_file}
    first = odoo_shell(sync_script(account_id, 20), env_extra, wait=False)
    second = odoo_shell(sync_script(account_id, 20), env_extra, wait=False)
    results = []
    for process in (first, second):
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
        results.append(last_json(out))
    assert sorted(r["state"] for r in results) in (["busy", "ok"], ["ok", "ok"])
    assert sum(r["new"] for r in results) == total
    assert stored(account_id) == (total, total)


#: Poison kinds carrying the corpus' shared Message-ID, made unique per copy below (no true duplicates).
POISON_KINDS = ("date-year-9999", "date-tz-9999", "date-garbage", "utf8-invalid", "nesting-500", "attachments-2000")


def fill_with_poison(dovecot, login, count, every=5):
    """``count`` emails, one poison email out of ``every``: every batch of the sync holds some."""
    factories = {kind: factory for kind, _description, factory in poison.POISON_EMAILS}
    raws = []
    for index in range(count):
        if index % every == 0:
            kind = POISON_KINDS[(index // every) % len(POISON_KINDS)]
            raw = factories[kind]().replace(b"<poison@poison.example>", f"<poison-{index}@poison.example>".encode())
        else:
            raw = poison.normal_email(index, message_id=f"<e2e-{index}-{uuid.uuid4().hex}@clients.example>")
        raws.append(raw)
    dovecot.append_many(login, raws)


def quarantined(account_id):
    with psycopg2.connect(dbname=DB) as conn, conn.cursor() as cr:
        cr.execute("SELECT count(*) FROM comunik_mail_quarantine WHERE account_id = %s", [account_id])
        return cr.fetchone()[0]


def test_killed_sync_with_poison_resumes_with_every_message_once(dovecot, account):
    """kill -9 in the middle of a batch holding poison emails: the rerun stores everything exactly once."""
    login, account_id = account
    total = 400
    fill_with_poison(dovecot, login, total)
    env_extra = {"COMUNIK_MAIL_CA_FILE": dovecot.ca_file}
    process = odoo_shell(sync_script(account_id, 25), env_extra, wait=False)
    deadline = time.monotonic() + 300
    while stored(account_id)[0] < 60:
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "the sync made no progress"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    partial = stored(account_id)[0]
    assert 60 <= partial < total, "the kill must happen mid-sync"
    result = last_json(odoo_shell(sync_script(account_id, 25), env_extra))
    assert result["state"] == "ok"
    assert stored(account_id) == (total, total)
    assert quarantined(account_id) == 0


def make_boxes(dovecot, count):
    """``count`` committed boxes with automatic sync on, one new email each."""
    logins = [f"e2e-claim-{uuid.uuid4().hex[:8]}@example.test" for _index in range(count)]
    for login in logins:
        dovecot.add_user(login, "pw-e2e")
        fill(dovecot, login, 1)
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
    return logins, last_json(out)


def test_two_cron_processes_claim_different_boxes_each_once(dovecot):
    """Two Odoo processes run the sync job at the same time, each with three sync threads: SKIP LOCKED splits
    the boxes between all six workers, and each process really syncs several boxes at once."""
    logins, ids = make_boxes(dovecot, 16)
    env_extra = {"COMUNIK_MAIL_CA_FILE": dovecot.ca_file}
    # Set once, before: two processes creating the parameter at once would collide on its unique key.
    odoo_shell('env["ir.config_parameter"].sudo().set_param("comunik_mail.sync_threads", "3")\nenv.cr.commit()')
    start_at = time.time() + 15  # both processes are up by then: their passes overlap
    script = f"""
import threading, time
Account = env["comunik.mail.account"]
original = type(Account)._sync_in_cursor
lock, running, most = threading.Lock(), [0], [0]
def slow(account, **kwargs):
    with lock:
        running[0] += 1
        most[0] = max(most[0], running[0])
    try:
        time.sleep(0.3)  # a real server's round trips: both processes and their threads are busy at once
        return original(account, **kwargs)
    finally:
        with lock:
            running[0] -= 1
type(Account)._sync_in_cursor = slow
time.sleep(max({start_at} - time.time(), 0))
claimed = Account._cron_sync(time_budget=300)
print("RESULT " + json.dumps({{"claimed": [i for i in claimed if i in {ids!r}], "most": most[0]}}))
"""
    try:
        processes = [odoo_shell(script, env_extra, wait=False) for _index in range(2)]
        claims = []
        for process in processes:
            out, err = process.communicate(timeout=600)
            assert process.returncode == 0, err[-3000:]
            result = last_json(out)
            assert result["most"] >= 2, "one process synced its boxes one at a time"
            claims.append(result["claimed"])
        first, second = claims
        assert not set(first) & set(second), "a box synced by both processes"
        assert sorted(first + second) == sorted(ids), "every box synced once in the pass"
        assert first and second, f"both processes worked: {len(first)} + {len(second)}"
        for account_id in ids:
            assert stored(account_id) == (1, 1)
    finally:
        odoo_shell(
            f'env["comunik.mail.account"].browse({ids!r}).unlink()\n'
            'env["ir.config_parameter"].sudo().set_param("comunik_mail.sync_threads", False)\nenv.cr.commit()\n'
        )
        for login in logins:
            dovecot.remove_user(login)
