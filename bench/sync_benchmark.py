# Run inside `odoo-bin shell` by bin/benchmark-sync (``env`` is provided by the shell).
# ruff: noqa: F821
import os
import resource
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from comunik_support import corpus
from comunik_support.servers import HOST, SMTPS_PORT, DovecotServer

N = int(os.environ.get("BENCH_N", "5000"))
#: Memory section: BIG_N emails of BIG_MB MiB each (a 10 MiB attachment), synced first, so that the
#: process peak RSS measured right after is that sync's (ru_maxrss only ever grows).
BIG_N = int(os.environ.get("BENCH_BIG_N", "200"))
BIG_MB = int(os.environ.get("BENCH_BIG_MB", "10"))


def big_emails(count, megabytes, login):
    """``count`` emails of ``megabytes`` MiB each (one attachment, same bytes: the filestore stores it once)."""
    payload = os.urandom(megabytes * 1024 * 1024)
    for index in range(count):
        msg = EmailMessage()
        msg["From"] = f"Client {index} <client{index}@big.example>"
        msg["To"] = login
        msg["Subject"] = f"Plans {index}"
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = f"<big-{index}@big.example>"
        msg.set_content("Voici les plans.")
        msg.add_attachment(payload, maintype="application", subtype="octet-stream", filename=f"plans-{index}.bin")
        yield msg.as_bytes()


class Phases:
    """Where our sync's time goes, per email: IMAP fetch, MIME parse, storing (dedupe, threading, ORM creates and
    flush, parse excluded) and commits. Wraps the pipeline's own methods during one timed sync."""

    def __init__(self, env):
        from odoo.addons.comunik_mail.services import imap_sync

        ingestion, account = type(env["comunik.mail.ingestion"]), type(env["comunik.mail.account"])
        self.targets = {
            "fetch": (imap_sync.ImapFolderReader, "_fetch_group"),
            "parse": (ingestion, "_parse"),
            "ingest": (ingestion, "_ingest_batch"),
            "commit": (account, "_commit"),
        }
        self.seconds = dict.fromkeys(self.targets, 0.0)
        self.originals = {}

    def _timed(self, name, original):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started

        return wrapper

    def __enter__(self):
        for name, (cls, attr) in self.targets.items():
            own = cls.__dict__.get(attr)  # the registry class may only inherit it
            self.originals[name] = own
            setattr(cls, attr, self._timed(name, getattr(cls, attr)))
        return self

    def __exit__(self, *exc):
        for name, (cls, attr) in self.targets.items():
            if self.originals[name] is None:
                delattr(cls, attr)
            else:
                setattr(cls, attr, self.originals[name])

    def report(self, count, total):
        ms = {name: seconds * 1000 / count for name, seconds in self.seconds.items()}
        store = ms["ingest"] - ms["parse"]
        other = total * 1000 / count - ms["fetch"] - ms["ingest"] - ms["commit"]
        return (
            f"per email: {total * 1000 / count:.2f} ms = fetch {ms['fetch']:.2f} + parse {ms['parse']:.2f} "
            f"+ store {store:.2f} (dedupe, threads, ORM creates, flush) + commit {ms['commit']:.2f} "
            f"+ other {other:.2f}"
        )


dovecot = DovecotServer(imaps_port=39993, imap_port=39143)  # not the test suite ports
dovecot.start()
os.environ["COMUNIK_MAIL_CA_FILE"] = dovecot.ca_file
try:
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

    # First, while the process holds nothing else: its peak RSS is then this sync's.
    if BIG_N:
        login = "big@example.test"
        dovecot.add_user(login, "bench")
        started = time.perf_counter()
        # Built and appended by a forked child: this process's peak RSS then measures the sync alone.
        child = os.fork()
        if child == 0:
            code = 1
            try:
                dovecot.append_many(login, big_emails(BIG_N, BIG_MB, login))
                code = 0
            finally:
                os._exit(code)
        _pid, status = os.waitpid(child, 0)
        assert status == 0 and dovecot.count(login) == BIG_N, "loading the large emails failed"
        print(f"loaded {BIG_N} emails of {BIG_MB} MiB into {login} in {time.perf_counter() - started:.1f}s")
        big = make_account(login)
        env.cr.commit()
        rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        result = big._sync(time_budget=10**6)
        big_seconds = time.perf_counter() - started
        assert result["state"] == "ok" and result["new"] == BIG_N, result
        print(
            f"memory:  {BIG_N} emails of {BIG_MB} MiB synced in {big_seconds:.1f}s, process peak RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
            f"(before: {rss_start / 1024:.0f} MiB; target < 300 MiB)"
        )

    now = datetime.now(UTC)
    for login in ("ours@example.test", "native@example.test"):
        # Same generator and seed, own Message-IDs: Odoo's router drops ids it already stored.
        messages = list(corpus.bulk_messages(N, login, now))
        dovecot.add_user(login, "bench")
        started = time.perf_counter()
        dovecot.append_many(login, messages)
        print(f"loaded {N} emails into {login} in {time.perf_counter() - started:.1f}s")
        del messages

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
    phases = Phases(env)
    started = time.perf_counter()
    with phases:
        result = ours._sync(time_budget=10**6)
    ours_seconds = time.perf_counter() - started
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert result["state"] == "ok" and result["new"] == N, result

    if os.environ.get("BENCH_SKIP_NATIVE"):  # quick runs while tuning: ours only
        print(f"ours:    {N} emails in {ours_seconds:.2f}s = {N / ours_seconds:.0f} emails/s")
        print(phases.report(N, ours_seconds))
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
    print(phases.report(N, ours_seconds))
finally:
    dovecot.stop()
