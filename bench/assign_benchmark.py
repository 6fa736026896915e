# Run inside `odoo-bin shell` by bin/benchmark-assign (``env`` is provided by the shell).
# ruff: noqa: F821
import os
import time

N = int(os.environ.get("BENCH_N", "1000"))
groups = [env.ref("base.group_user").id, env.ref("comunik_mail.group_comunik_mail_user").id]
dispatcher, member = env["res.users"].create(
    [
        {"name": "Denis Dispatcheur", "login": "bench_dispatcher", "group_ids": [(6, 0, groups)]},
        {"name": "Mélanie Membre", "login": "bench_member", "group_ids": [(6, 0, groups)]},
    ]
)
department = env["hr.department"].create({"name": "Support client"})
env["hr.employee"].create({"name": member.name, "user_id": member.id, "department_id": department.id})
account = env["comunik.mail.account"].create(
    {
        "email": "support-bench@example.test",
        "category": "shared",
        "imap_host": "127.0.0.1",
        "smtp_host": "127.0.0.1",
        "department_ids": [(6, 0, department.ids)],
        "dispatcher_ids": [(6, 0, dispatcher.ids)],
    }
)
conversations = env["comunik.mail.conversation"].create(
    [{"account_id": account.id, "subject": f"Demande {index}"} for index in range(N)]
)
env.cr.commit()

if os.environ.get("BENCH_PROFILE"):
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    conversations.with_user(dispatcher).action_assign(member, priority="1")
    env.cr.commit()
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    raise SystemExit(0)
started = time.perf_counter()
conversations.with_user(dispatcher).action_assign(member, priority="1")
env.cr.commit()  # tracking values are written at commit time: part of the cost
seconds = time.perf_counter() - started
assert set(conversations.mapped("state")) == {"assigned"}
print(f"assign: {N} conversations in one action in {seconds:.2f}s ({N / seconds:.0f} conversations/s)")
