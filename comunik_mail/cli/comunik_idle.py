"""``odoo-bin --addons-path=... comunik_idle -d DB``: push (IMAP IDLE) for the mailboxes of a database.

One process watches many boxes (``services/imap_idle.py``: a thread with a small stack per watched folder, blocked
in ``poll()``) and syncs a box (``comunik.mail.account._sync``, in a worker thread with its own cursor) as soon as
its server announces new mail. Several processes, on one host or many, share the boxes through PostgreSQL session
advisory locks (``IDLE_LOCK_NAMESPACE``, one per box, held on a dedicated connection): a box is watched by one
process only; a process that dies loses its connection, hence its locks, and the others take its boxes over at
their next rescan. Each process takes at most its fair share (boxes / live processes), so the work spreads.

Odoo discovers this file as ``<addon>/cli/comunik_idle.py`` (odoo/cli/command.py, ``load_addons_commands``): the
addons path must come first on the command line.
"""

import contextlib
import json
import logging
import math
import optparse
import resource
import signal
import threading
import time
import zlib

import psycopg2

from odoo import SUPERUSER_ID, api, sql_db
from odoo.cli.command import Command
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.service.server import load_server_wide_modules
from odoo.tools import config

# Odoo loads this file as ``odoo.cli.comunik_idle`` (not inside the addon's package): no relative import.
from odoo.addons.comunik_mail.services import imap_idle  # pylint: disable=odoo-addons-relative-import

_logger = logging.getLogger("odoo.addons.comunik_mail.cli.comunik_idle")

#: Advisory-lock namespace of the watchers (the sync's is ``comunik_mail.sync``): key (namespace, box id) is held
#: by the process watching the box; key (namespace, 0), shared, by every live comunik_idle process.
IDLE_LOCK_NAMESPACE = zlib.crc32(b"comunik_mail.idle") & 0x7FFFFFFF
MEMBER_KEY = 0

#: Boxes to watch: automatic sync on, IMAP, not in login backoff; the fingerprint changes with the connection
#: settings and the folders, which restarts the box's watcher.
BOXES_QUERY = """
SELECT a.id, a.email,
       md5(concat_ws('|', fs.server, fs.port, fs.user, fs.password, fs.server_type, a.imap_encryption,
                     a.auth_method, a.mail_provider,
                     (SELECT string_agg(f.name, '|' ORDER BY f.name) FROM comunik_mail_folder f
                       WHERE f.account_id = a.id AND f.present AND (f.is_inbox OR (f.sync_enabled AND NOT f.is_sent)))))
  FROM comunik_mail_account a
  JOIN fetchmail_server fs ON fs.id = a.fetchmail_server_id
 WHERE a.active AND a.sync_enabled AND a.account_type = 'imap'
   AND (a.sync_retry_date IS NULL OR a.sync_retry_date <= (now() AT TIME ZONE 'UTC'))
 ORDER BY a.id
"""
#: Live comunik_idle processes on this database (holders of the shared member lock).
MEMBERS_QUERY = """
SELECT count(DISTINCT pid) FROM pg_locks
 WHERE locktype = 'advisory' AND granted AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 2
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
#: A box without IDLE (or whose login was refused) is probed again after this long (seconds).
NO_IDLE_RETRY = 6 * 3600.0
AUTH_RETRY = 900.0
#: A sync that found the box busy (the cron is syncing it) is retried after this long: it may predate the mail.
BUSY_RETRY = 2.0
SYNC_BUDGET = 60.0


class SyncQueue:
    """Boxes to sync, each at most once in the queue and never twice at once; a box signalled while its sync runs
    is synced again afterwards (the running sync may have planned before the new mail)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._due = {}  # box id -> (not before, first event time)
        self._running = set()
        self._again = {}
        self.closed = False

    def put(self, box_id, event_time, delay=0.0):
        with self._cond:
            if box_id in self._running:
                self._again.setdefault(box_id, event_time)
                return
            not_before, first = self._due.get(box_id, (math.inf, event_time))
            self._due[box_id] = (min(not_before, time.monotonic() + delay), min(first, event_time))
            self._cond.notify()

    def get(self):
        """Next due box ``(id, first event time)``, or None once closed."""
        with self._cond:
            while not self.closed:
                now = time.monotonic()
                ready = [(nb, box_id) for box_id, (nb, _first) in self._due.items() if nb <= now]
                if ready:
                    box_id = min(ready)[1]
                    _nb, first = self._due.pop(box_id)
                    self._running.add(box_id)
                    return box_id, first
                wait = min((nb for nb, _first in self._due.values()), default=now + 3600) - now
                self._cond.wait(max(wait, 0.01))
            return None

    def done(self, box_id):
        with self._cond:
            self._running.discard(box_id)
            again = self._again.pop(box_id, None)
        if again is not None:
            self.put(box_id, again)

    def close(self):
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class IdleManager:
    """Watch the boxes of ``dbname`` this process is given by the locks, and sync them on new mail.

    Usable from a script (after Odoo's configuration is loaded): ``manager = IdleManager(db).start()``, then
    ``manager.stats()`` at any time and ``manager.stop()``.
    """

    def __init__(
        self,
        dbname,
        rescan_interval=10.0,
        reidle_interval=300.0,
        backoff_max=300.0,
        sync_workers=2,
        max_boxes=0,
    ):
        self.dbname = dbname
        self.rescan_interval = rescan_interval
        self.idle_config = imap_idle.IdleConfig(reidle_interval=reidle_interval, backoff_max=backoff_max)
        self.sync_workers = sync_workers
        self.max_boxes = max_boxes
        self.stop_signal = imap_idle.StopSignal()
        self.queue = SyncQueue()
        self.watchers = {}  # box id -> (fingerprint, BoxWatcher)
        self.held = set()  # box ids whose advisory lock this process holds
        self.parked = {}  # box id -> monotonic time before which it is not watched (no IDLE, login refused)
        self._lock_cnx = None
        self._threads = []
        self._stats_lock = threading.Lock()
        # Watchers reconnecting together (a server restart) read their settings two at a time: the pool stays small.
        self._settings_slots = threading.BoundedSemaphore(2)
        self.counters = {"events": 0, "syncs": 0, "sync_errors": 0, "busy": 0, "new_emails": 0}
        self.latencies = []  # seconds from the IDLE event to the end of the sync, last 1000
        self.started = None
        self.members = 1

    # ------------------------------------------------------------------ lifecycle

    def start(self):
        self.started = time.monotonic()
        self.registry = Registry(self.dbname)
        self._connect_locks()
        for index in range(self.sync_workers):  # default stack: the sync walks deep MIME trees
            self._spawn(self._sync_worker, f"comunik_idle-sync-{index}")
        self._spawn(self._rescan_loop, "comunik_idle-rescan")
        return self

    def _spawn(self, target, name):
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout=30.0):
        """Stop watching (every watcher wakes at once), let running syncs end, release the locks."""
        _logger.info("comunik_idle: stopping (%d box(es) watched)", len(self.watchers))
        self.stop_signal.set()
        self.queue.close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:  # the rescan, then the syncs running (each bounded by SYNC_BUDGET)
            thread.join(max(deadline - time.monotonic(), 0.1))
        for _fingerprint, watcher in list(self.watchers.values()):
            watcher.stop(5)
        self.watchers.clear()
        self.held.clear()
        if self._lock_cnx is not None:
            with contextlib.suppress(psycopg2.Error):
                self._lock_cnx.close()  # ends the session: every lock of this process is released
            self._lock_cnx = None
        self.stop_signal.close()

    def wait(self):
        """Block until ``stop_signal`` is set (by ``stop`` or a signal handler)."""
        while not self.stop_signal.wait(3600):
            pass

    # ------------------------------------------------------------------ locks

    def _connect_locks(self):
        """A connection of our own, outside Odoo's pool (which closes idle connections): it holds the locks."""
        _dsn_name, info = sql_db.connection_info_for(self.dbname)
        info = {**info, "application_name": "comunik_idle"}
        cnx = psycopg2.connect(**info, keepalives=1, keepalives_idle=30, keepalives_interval=10)
        cnx.autocommit = True
        with cnx.cursor() as cr:
            cr.execute("SELECT pg_advisory_lock_shared(%s, %s)", [IDLE_LOCK_NAMESPACE, MEMBER_KEY])
        self._lock_cnx = cnx
        _logger.info("comunik_idle: database session %s holds the locks", cnx.get_backend_pid())

    def _sql(self, query, params=()):
        with self._lock_cnx.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None

    def _try_lock(self, box_id):
        return self._sql("SELECT pg_try_advisory_lock(%s, %s)", [IDLE_LOCK_NAMESPACE, box_id])[0][0]

    def _unlock(self, box_id):
        self._sql("SELECT pg_advisory_unlock(%s, %s)", [IDLE_LOCK_NAMESPACE, box_id])
        self.held.discard(box_id)

    # ------------------------------------------------------------------ rescan

    def _rescan_loop(self):
        threading.current_thread().dbname = self.dbname
        while not self.stop_signal.is_set():
            try:
                self.rescan()
            except psycopg2.Error:
                _logger.exception("comunik_idle: database unreachable; every box is released and taken again")
                self._drop_all()
            except Exception:  # noqa: BLE001 - keep watching; the next rescan tries again
                _logger.exception("comunik_idle: rescan failed")
            if self.stop_signal.wait(self.rescan_interval):
                break

    def _drop_all(self):
        for box_id in list(self.watchers):
            self._stop_watcher(box_id)
        self.held.clear()
        with contextlib.suppress(Exception):
            self._lock_cnx.close()
        try:
            self._connect_locks()
        except psycopg2.Error as exc:
            _logger.warning("comunik_idle: cannot reconnect to the database yet: %s", exc)

    def rescan(self):
        """Drop boxes that are no longer due, restart those whose settings changed, take new ones up to the fair
        share of this process."""
        self.registry = Registry(self.dbname).check_signaling()
        with self.registry.cursor() as cr:
            cr.execute(BOXES_QUERY)
            boxes = {box_id: (email, fingerprint) for box_id, email, fingerprint in cr.fetchall()}
        now = time.monotonic()
        for box_id in list(self.held):
            if box_id not in boxes:
                _logger.info("comunik_idle: box %s no longer watched (sync off, removed or login backoff)", box_id)
                self._stop_watcher(box_id)
                self._unlock(box_id)
        self._collect_finished(now)
        for box_id, (fingerprint, _watcher) in list(self.watchers.items()):
            if boxes[box_id][1] != fingerprint:
                _logger.info("comunik_idle: settings of %s changed, reconnecting", boxes[box_id][0])
                self._stop_watcher(box_id)
        self.members = max(self._sql(MEMBERS_QUERY, [IDLE_LOCK_NAMESPACE, MEMBER_KEY])[0][0], 1)
        share = math.ceil(len(boxes) / self.members)
        if self.max_boxes:
            share = min(share, self.max_boxes)
        for box_id in sorted(self.held, reverse=True)[: max(len(self.held) - share, 0)]:
            self._stop_watcher(box_id)  # over our share: another process takes it at its next rescan
            self._unlock(box_id)
        for box_id in boxes:
            if len(self.held) >= share or self.stop_signal.is_set():
                break
            if box_id in self.held or self.parked.get(box_id, 0) > now:
                continue
            if self._try_lock(box_id):
                self.held.add(box_id)
                self.parked.pop(box_id, None)
        for box_id in self.held:
            if box_id not in self.watchers and self.parked.get(box_id, 0) <= now:
                self._start_watcher(box_id, *boxes[box_id])

    def _collect_finished(self, now):
        """Watchers that ended by themselves: no IDLE on the server, or login refused (the cron reports it)."""
        for box_id, (_fingerprint, watcher) in list(self.watchers.items()):
            if watcher.alive:
                continue
            state = watcher.state
            self.watchers.pop(box_id)
            delay = NO_IDLE_RETRY if state == imap_idle.NO_IDLE else AUTH_RETRY
            self.parked[box_id] = now + delay
            _logger.info(
                "comunik_idle: box %s not watched (%s); the scheduled sync keeps polling it, next try in %d min",
                box_id,
                state,
                delay // 60,
            )

    def _start_watcher(self, box_id, email, fingerprint):
        folders = self._folders(box_id)
        watcher = imap_idle.BoxWatcher(
            lambda: self._settings(box_id),
            folders,
            on_event=lambda event: self._on_event(box_id, event),
            on_status=lambda folder, state, detail: self._on_status(email, folder, state, detail),
            config=self.idle_config,
            stop=self.stop_signal,
        )
        self.watchers[box_id] = (fingerprint, watcher)
        watcher.start(str(box_id))

    def _stop_watcher(self, box_id):
        entry = self.watchers.pop(box_id, None)
        if entry:
            entry[1].stop(5)

    def _folders(self, box_id):
        """INBOX and the folders chosen for the inbox (the Sent folder is read by every sync anyway)."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            folders = env["comunik.mail.account"].browse(box_id)._folders_to_sync().filtered(lambda f: not f.is_sent)
            return folders.mapped("name") or ["INBOX"]

    def _settings(self, box_id):
        """Called by the watcher before each connection: current password, or an access token renewed by Odoo's
        Google / Microsoft modules (committed, like the sync does)."""
        with self._settings_slots, self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["comunik.mail.account"].browse(box_id)
            settings = account._imap_settings()
            account._check_owner_host_policy(settings)
            try:
                return account._with_oauth_token(settings, "IMAP")
            except UserError as exc:
                raise ConnectionError(str(exc)) from exc

    def _on_status(self, email, folder, state, detail):
        quiet = (imap_idle.WATCHING, imap_idle.CONNECTING, imap_idle.STOPPED)
        level = logging.INFO if state in quiet else logging.WARNING
        _logger.log(level, "comunik_idle: %s / %s: %s%s", email, folder, state, f" ({detail})" if detail else "")

    def _on_event(self, box_id, event):
        with self._stats_lock:
            self.counters["events"] += 1
        self.queue.put(box_id, event.at)

    # ------------------------------------------------------------------ syncs

    def _sync_worker(self):
        threading.current_thread().dbname = self.dbname
        while (job := self.queue.get()) is not None:
            box_id, event_time = job
            try:
                self._sync_box(box_id, event_time)
            except Exception:  # noqa: BLE001 - one box's failure never stops the others
                _logger.exception("comunik_idle: synchronization of box %s failed", box_id)
            finally:
                self.queue.done(box_id)

    def _sync_box(self, box_id, event_time):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["comunik.mail.account"].browse(box_id).exists()
            if not account or not account.sync_enabled:
                return
            result = account._sync(time_budget=SYNC_BUDGET)
        with self._stats_lock:
            if result["state"] == "busy":
                self.counters["busy"] += 1
            else:
                self.counters["syncs"] += 1
                self.counters["new_emails"] += result["new"]
                self.counters["sync_errors"] += result["state"] == "error"
                if result["state"] == "ok":
                    self.latencies = [*self.latencies[-999:], time.time() - event_time]
        if result["state"] == "busy" or result.get("more"):
            self.queue.put(box_id, event_time, delay=BUSY_RETRY if result["state"] == "busy" else 0.0)

    # ------------------------------------------------------------------ figures

    def stats(self):
        """What this process does, for monitoring and benchmarks (``bin/benchmark-scale``)."""
        states = {}
        for _fingerprint, watcher in list(self.watchers.values()):
            states[watcher.state] = states.get(watcher.state, 0) + 1
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with self._stats_lock:
            latencies = sorted(self.latencies)
            counters = dict(self.counters)
        return {
            "boxes_held": len(self.held),
            "boxes_watched": len(self.watchers),
            "states": states,
            "parked": sum(1 for until in self.parked.values() if until > time.monotonic()),
            "processes": self.members,
            "threads": threading.active_count(),
            **counters,
            "latency_median": latencies[len(latencies) // 2] if latencies else None,
            "latency_max": latencies[-1] if latencies else None,
            "rss_kb": _rss_kb(),
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "uptime": time.monotonic() - self.started if self.started else 0.0,
        }


def _rss_kb():
    """Current resident memory (``ru_maxrss`` is the peak)."""
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _raise_open_files_limit():
    """One socket per watched folder: take the hard limit of open files (1,024 by default is too few)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


def _option(options, name, default):
    """A command-line option of ours (Odoo's configuration keeps only its own options)."""
    value = getattr(options, name, None)
    return default if value is None else value


class ComunikIdle(Command):
    """Watch the mailboxes with IMAP IDLE and synchronize each one as soon as mail arrives"""

    name = "comunik_idle"

    def run(self, args):
        parser = config.parser
        parser.prog = self.prog
        group = optparse.OptionGroup(parser, "comunik_idle", "Push (IMAP IDLE) for the database given by -d.")
        group.add_option(
            "--rescan-interval",
            dest="comunik_idle_rescan",
            type="float",
            my_default=10.0,
            help="seconds between two reads of the boxes to watch (new, removed, taken over)",
        )
        group.add_option(
            "--reidle-interval",
            dest="comunik_idle_reidle",
            type="float",
            my_default=300.0,
            help="IDLE is restarted at least this often, in seconds (keeps NAT routers open)",
        )
        group.add_option(
            "--sync-workers",
            dest="comunik_idle_workers",
            type="int",
            my_default=2,
            help="boxes synchronized at the same time by this process",
        )
        group.add_option(
            "--max-boxes",
            dest="comunik_idle_max_boxes",
            type="int",
            my_default=0,
            help="at most this many boxes for this process (0: its fair share)",
        )
        group.add_option(
            "--stats-interval",
            dest="comunik_idle_stats",
            type="float",
            my_default=300.0,
            help="seconds between two log lines of figures (0: never)",
        )
        parser.add_option_group(group)
        options = config.parse_config(args, setup_logging=True)
        dbnames = config["db_name"]
        if len(dbnames) != 1:
            raise SystemExit("comunik_idle needs exactly one database: -d DB")
        _raise_open_files_limit()
        load_server_wide_modules()
        manager = IdleManager(
            dbnames[0],
            rescan_interval=_option(options, "comunik_idle_rescan", 10.0),
            reidle_interval=_option(options, "comunik_idle_reidle", 300.0),
            sync_workers=max(_option(options, "comunik_idle_workers", 2), 1),
            max_boxes=_option(options, "comunik_idle_max_boxes", 0),
        )

        def shutdown(signum, _frame):
            _logger.info("comunik_idle: %s received", signal.Signals(signum).name)
            manager.stop_signal.set()

        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)
        manager.start()
        _logger.info(
            "comunik_idle: watching the mailboxes of %s (rescan every %ss)", dbnames[0], manager.rescan_interval
        )
        stats_interval = _option(options, "comunik_idle_stats", 300.0)
        while not manager.stop_signal.wait(stats_interval if stats_interval > 0 else 3600):
            if stats_interval > 0:
                _logger.info("comunik_idle: stats %s", json.dumps(manager.stats()))
        manager.stop()
        _logger.info("comunik_idle: stopped")
