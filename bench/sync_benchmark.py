# Run inside `odoo-bin shell` by bin/benchmark-sync (``env`` is provided by the shell).
# ruff: noqa: F821
import os
import resource
import time
from datetime import UTC, datetime

from comunik_support import corpus
from comunik_support.servers import HOST, SMTPS_PORT, DovecotServer

N = int(os.environ.get("BENCH_N", "5000"))

dovecot = DovecotServer(imaps_port=39993, imap_port=39143)  # not the test suite ports
dovecot.start()
os.environ["COMUNIK_MAIL_CA_FILE"] = dovecot.ca_file
try:
    now = datetime.now(UTC)
    for login in ("ours@example.test", "native@example.test"):
        # Same generator and seed, own Message-IDs: Odoo's router drops ids it already stored.
        messages = list(corpus.bulk_messages(N, login, now))
        dovecot.add_user(login, "bench")
        started = time.perf_counter()
        dovecot.append_many(login, messages)
        print(f"loaded {N} emails into {login} in {time.perf_counter() - started:.1f}s")

    Account = env["comunik.mail.account"]

    def make_account(login):
        return Account.create(
            {
                "email": login,
                "category": "shared",
                "sync_period": "week",
                "imap_host": HOST,
                "imap_port": dovecot.imaps_port,
                "imap_password": "bench",
                "smtp_host": HOST,
                "smtp_port": SMTPS_PORT,
            }
        )

    ours, native = make_account("ours@example.test"), make_account("native@example.test")
    server = native.fetchmail_server_id
    server.write({"state": "done", "object_id": env["ir.model"]._get_id("comunik.mail.conversation"), "attach": True})
    env.cr.commit()

    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        ours._sync(time_budget=10**6)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        raise SystemExit(0)
    # No tracemalloc while timing: it would double the time. Peak RSS growth shows our memory.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = ours._sync(time_budget=10**6)
    ours_seconds = time.perf_counter() - started
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert result["state"] == "ok" and result["new"] == N, result

    if os.environ.get("BENCH_SKIP_NATIVE"):  # quick runs while tuning: ours only
        print(f"ours:    {N} emails in {ours_seconds:.2f}s = {N / ours_seconds:.0f} emails/s")
        raise SystemExit(0)
    started = time.perf_counter()
    server._fetch_mail(batch_limit=10**9)
    native_seconds = time.perf_counter() - started
    env.cr.commit()
    native_count = env["mail.message"].search_count(
        [("model", "=", "comunik.mail.conversation"), ("res_id", "in", native.conversation_ids.ids)]
    )

    started = time.perf_counter()
    again = ours._sync(time_budget=10**6)
    incremental_seconds = time.perf_counter() - started
    assert again["new"] == 0, again

    ours_rate, native_rate = N / ours_seconds, native_count / native_seconds
    print(f"ours:    {N} emails in {ours_seconds:.2f}s = {ours_rate:.0f} emails/s")
    print(
        f"native:  {native_count} emails in {native_seconds:.2f}s = {native_rate:.0f} emails/s "
        "(fetchmail, no batch limit)"
    )
    print(f"ratio:   {ours_rate / native_rate:.1f}x faster per email")
    print(
        f"memory:  peak RSS grew by {rss_growth / 1024:.0f} MiB during our sync "
        f"(process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)"
    )
    print(f"incremental sync with nothing new: {incremental_seconds * 1000:.0f} ms")
finally:
    dovecot.stop()
