"""Automatic assignment raced by two real Odoo processes: no email given twice, no capacity exceeded.

Each process plays a sync storing batches of new emails (each committed with its assignment, in Odoo's
REPEATABLE READ transactions), a member closing an email (a place frees) and the minute cron (READ COMMITTED,
a transaction per box), both processes at once on the same box. Without the box's advisory lock and its pass
counter, the two crons read the same backlog and loads and give the same emails out twice (checked: with both
removed, this test fails on emails assigned twice).
"""

import time
import uuid

import psycopg2
import pytest

from .test_sync_processes import DB, last_json, odoo_shell

MEMBERS = 3
CAPACITY = 6
ROUNDS = 15  # per process, each storing a batch of BATCH new emails, like a sync
BATCH = 4


@pytest.fixture(autouse=True)
def _database():
    if not DB:
        pytest.fail("COMUNIK_E2E_DB is not set: run these tests through bin/test", pytrace=False)


@pytest.fixture
def box():
    """A committed shared box in balanced mode, 3 members (always at work) of capacity 6; removed afterwards."""
    tag = uuid.uuid4().hex[:8]
    out = odoo_shell(
        f"""
calendar = env["resource.calendar"].create({{
    "name": "24/7 {tag}", "tz": "UTC",
    "attendance_ids": [(0, 0, {{"name": "j", "dayofweek": str(d), "hour_from": 0, "hour_to": 24,
                               "day_period": "full_day"}}) for d in range(7)],
}})
department = env["hr.department"].create({{"name": "Course {tag}"}})
groups = [env.ref("base.group_user").id, env.ref("comunik_mail.group_comunik_mail_user").id]
users = env["res.users"]
for index in range({MEMBERS}):
    user = env["res.users"].create({{
        "name": f"Membre {{index}} {tag}", "login": f"race-{{index}}-{tag}", "lang": "fr_FR", "tz": "UTC",
        "group_ids": [(6, 0, groups)],
    }})
    env["hr.employee"].create({{"name": user.name, "user_id": user.id, "department_id": department.id,
                               "resource_calendar_id": calendar.id, "tz": "UTC"}})
    users |= user
account = env["comunik.mail.account"].create({{
    "email": "race-{tag}@example.test", "category": "shared", "imap_host": HOST, "smtp_host": HOST,
    "department_ids": [(6, 0, department.ids)], "assign_mode": "balanced",
    "assign_member_ids": [(0, 0, {{"user_id": user.id, "capacity": {CAPACITY}}}) for user in users],
}})
env.cr.commit()
print("RESULT " + json.dumps({{"id": account.id, "users": users.ids}}))
"""
    )
    data = last_json(out)
    yield data
    odoo_shell(f'env["comunik.mail.account"].browse({data["id"]}).unlink()\nenv.cr.commit()\n')


def burst_script(account_id, process, start):
    return f"""
import random, time
from datetime import datetime, timedelta
from psycopg2.extensions import TransactionRollbackError
Assignment = env["comunik.mail.assignment"]
Conversation = env["comunik.mail.conversation"].sudo()
account = env["comunik.mail.account"].browse({account_id})
while time.time() < {start}:
    time.sleep(0.005)
for index in range({ROUNDS}):
    date = datetime.now() - timedelta(minutes={ROUNDS} - index)
    Conversation.create([{{
        "account_id": account.id, "subject": f"Course {process}-{{index}}-{{n}}", "date_first": date, "date_last": date,
    }} for n in range({BATCH})])
    env.flush_all()
    time.sleep(random.uniform(0.01, 0.05))  # the rest of the batch's storing, in the same transaction
    Assignment._assign_backlog(account)  # the sync's step: in the same transaction as the new emails
    env.cr.commit()
    # A member closes one of this process's emails: a place frees while the other process assigns.
    try:
        done = Conversation.search(
            [("account_id", "=", account.id), ("state", "=", "assigned"), ("subject", "=like", "Course {process}-%")],
            limit=1,
        )
        done.action_close()
        env.cr.commit()
    except TransactionRollbackError:
        env.cr.rollback()
    Assignment._cron_assign()  # the minute cron: a transaction of its own
Assignment._cron_assign()
print("RESULT " + json.dumps({{"done": True}}))
"""


def test_two_processes_never_exceed_a_capacity_nor_assign_twice(box):
    start = time.time() + 8  # both processes load the registry first, then go at the same instant
    processes = [odoo_shell(burst_script(box["id"], k, start), wait=False) for k in (1, 2)]
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
        assert last_json(out)["done"]
    with psycopg2.connect(dbname=DB) as conn, conn.cursor() as cr:
        cr.execute(
            """SELECT user_id, count(*) FROM comunik_mail_conversation
                WHERE account_id = %s AND user_id IS NOT NULL AND state != 'closed' GROUP BY user_id""",
            [box["id"]],
        )
        loads = dict(cr.fetchall())
        cr.execute(
            "SELECT count(*), count(*) FILTER (WHERE user_id IS NULL), count(*) FILTER (WHERE state = 'closed')"
            " FROM comunik_mail_conversation WHERE account_id = %s",
            [box["id"]],
        )
        total, unassigned, closed = cr.fetchone()
        cr.execute(
            """SELECT m.res_id, count(*) FROM mail_message m
                JOIN comunik_mail_conversation c ON c.id = m.res_id
                WHERE m.model = 'comunik.mail.conversation' AND c.account_id = %s AND m.body LIKE '%%Attribué à%%'
                GROUP BY m.res_id""",
            [box["id"]],
        )
        notes = dict(cr.fetchall())
    assert total == 2 * ROUNDS * BATCH
    assert loads == dict.fromkeys(box["users"], CAPACITY), "every place used once, none above a capacity"
    assert closed > 0, "places were freed during the race"
    assert unassigned == total - MEMBERS * CAPACITY - closed, "the others wait « Non assigné »"
    assert set(notes.values()) == {1}, "one assignment (one note) per email, never two"
    assert len(notes) == MEMBERS * CAPACITY + closed
