# Run inside `odoo-bin shell` by bin/benchmark-banner (``env`` is provided by the shell).
# ruff: noqa: F821
"""Seed BENCH_N conversations (SQL, fast) over 20 shared accounts and time the banner and the statistics."""

import os
import statistics
import time

N = int(os.environ.get("BENCH_N", "200000"))
ACCOUNTS = 20
RUNS = 20

groups = [env.ref("base.group_user").id, env.ref("comunik_mail.group_comunik_mail_user").id]
admin_groups = [env.ref("base.group_user").id, env.ref("comunik_mail.group_comunik_mail_admin").id]
member = env["res.users"].create({"name": "Mélanie Membre", "login": "bench_member", "group_ids": [(6, 0, groups)]})
admin = env["res.users"].create({"name": "Adèle Admin", "login": "bench_admin", "group_ids": [(6, 0, admin_groups)]})
departments = env["hr.department"].create([{"name": f"Service {i}"} for i in range(ACCOUNTS)])
env["hr.employee"].create({"name": member.name, "user_id": member.id, "department_id": departments[0].id})
accounts = env["comunik.mail.account"].create(
    [
        {
            "email": f"boite{i}@bench.test",
            "category": "shared",
            "imap_host": "127.0.0.1",
            "smtp_host": "127.0.0.1",
            "department_ids": [(6, 0, departments[i].ids)],
            "dispatcher_ids": [(6, 0, member.ids if i == 1 else [])],
        }
        for i in range(ACCOUNTS)
    ]
)
env.flush_all()
started = time.perf_counter()
env.cr.execute(
    """
    INSERT INTO comunik_mail_conversation
        (account_id, category, subject, state, user_id, is_new, priority, active,
         date_first, date_last, deadline, close_date, first_response_date, first_response_hours,
         create_uid, write_uid, create_date, write_date)
    SELECT acc.ids[1 + i %% %(accounts)s],
           'shared',
           'Demande ' || i,
           (ARRAY['unassigned', 'assigned', 'in_progress', 'to_process', 'closed', 'closed'])[1 + i %% 6],
           CASE WHEN i %% 6 = 0 THEN NULL ELSE %(member)s END,
           i %% 10 = 0,
           '0',
           TRUE,
           received,
           received,
           received + interval '8 hours',
           CASE WHEN i %% 6 >= 4 THEN received + (i %% 72) * interval '1 hour' END,
           CASE WHEN i %% 6 <> 0 THEN received + (i %% 24) * interval '1 hour' END,
           CASE WHEN i %% 6 <> 0 THEN (i %% 24)::float END,
           1, 1, now(), now()
      FROM generate_series(1, %(n)s) AS i,
           (SELECT ARRAY_AGG(id ORDER BY id) AS ids FROM comunik_mail_account WHERE email LIKE '%%@bench.test') AS acc,
           LATERAL (SELECT now() - (i %% 365) * interval '1 day' - (i %% 24) * interval '1 hour' AS received) AS r
    """,
    {"n": N, "accounts": ACCOUNTS, "member": member.id},
)
env.cr.execute("ANALYZE comunik_mail_conversation")
env.cr.commit()
print(f"seeded {N} conversations over {ACCOUNTS} shared accounts in {time.perf_counter() - started:.1f}s")


def timed(label, call):
    call()  # warm caches (rules, groups, plans)
    samples = []
    for _run in range(RUNS):
        env.invalidate_all()
        begin = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - begin) * 1000)
    print(f"{label}: median {statistics.median(samples):.1f} ms, max {max(samples):.1f} ms over {RUNS} runs")
    return result


everything = {f"show_{key}": True for key in ("to_process", "overdue", "new")}
USERS = ((member, "member (2 of 20 boxes: one as member, one as dispatcher)"), (admin, "admin (all 20 boxes)"))
for user, label in USERS:
    config = env["comunik.mail.banner.config"].with_user(user)._for_user()
    config.write(everything)
    result = timed(f"banner, {label}, 7 counters", config.get_banner)
    print("   ", {counter["key"]: counter["count"] for counter in result["counters"]})

# The query plan of the banner's aggregate, as the member (record rules included).
Conversation = env["comunik.mail.conversation"].with_user(member)
query = Conversation._search([("category", "=", "shared")])
from odoo.tools import SQL  # noqa: E402

env.cr.execute(SQL("EXPLAIN (ANALYZE, COSTS OFF) %s", query.select(SQL("COUNT(*)"))))
print("plan (member):")
for (line,) in env.cr.fetchall():
    print("   ", line)

if "comunik.mail.statistics" in env:
    Statistics = env["comunik.mail.statistics"]
    measures = [
        f"{name}:{Statistics._fields[name].aggregator}"
        for name in Statistics._fields
        if Statistics._fields[name].aggregator and Statistics._fields[name].store is not False
    ]
    for user, label in ((member, "member"), (admin, "admin")):
        timed(
            f"statistics pivot (account x state, {len(measures)} measures), {label}",
            lambda user=user: Statistics.with_user(user)._read_group([], ["account_id", "state"], measures),
        )
env.cr.rollback()
