import logging
import time
import zlib
from datetime import timedelta

from psycopg2.errors import LockNotAvailable

from odoo import api, fields, models
from odoo.tools import SQL

from ..services import connection, imap_sync

_logger = logging.getLogger(__name__)

#: Advisory-lock namespace: one sync per account at a time, across processes.
LOCK_NAMESPACE = zlib.crc32(b"comunik_mail.sync") & 0x7FFFFFFF
#: Consecutive failures after which the owner (or the admins) are notified.
FAILURES_BEFORE_NOTICE = 3
#: Refused logins: automatic sync waits 5 min, 10, 20... at most a day before trying again.
LOGIN_BACKOFF_FIRST = timedelta(minutes=5)
LOGIN_BACKOFF_MAX = timedelta(days=1)
#: Seconds a button/API sync may run before leaving the rest to the cron.
INTERACTIVE_BUDGET = 60.0


class ComunikMailAccount(models.Model):
    """Synchronization of an account's INBOX into conversations (see services/imap_sync.py)."""

    _inherit = "comunik.mail.account"

    sync_enabled = fields.Boolean(
        "Automatic Synchronization", readonly=True, copy=False, help="Turned on by the first synchronization."
    )
    sync_state = fields.Selection(
        [("never", "Never synchronized"), ("running", "Running"), ("ok", "OK"), ("error", "Error")],
        "Synchronization",
        default="never",
        readonly=True,
        copy=False,
    )
    sync_date = fields.Datetime("Last Synchronization", readonly=True, copy=False)
    sync_error_message = fields.Text("Synchronization Error", readonly=True, copy=False)
    sync_error_date = fields.Datetime("Error Date", readonly=True, copy=False)
    sync_error_count = fields.Integer("Consecutive Failures", readonly=True, copy=False)
    sync_auth_failure_count = fields.Integer("Refused Logins", readonly=True, copy=False)
    sync_retry_date = fields.Datetime(
        "Next Attempt",
        readonly=True,
        copy=False,
        help="The server refused the login: automatic synchronization waits until then (longer after each refusal, "
        "as mail servers lock accounts after repeated failures). A successful connection test or a new password "
        "retries at once.",
    )
    sync_message_count = fields.Integer("Synchronized Emails", compute="_compute_sync_message_count")
    folder_ids = fields.One2many(
        "comunik.mail.folder", "account_id", "Folders", readonly=True, groups="comunik_mail.group_comunik_mail_admin"
    )
    conversation_ids = fields.One2many("comunik.mail.conversation", "account_id", "Conversations")

    def _compute_sync_message_count(self):
        counts = dict(
            self.env["mail.message"]
            .sudo()
            ._read_group([("comunik_account_id", "in", self.ids)], ["comunik_account_id"], ["__count"])
        )
        for account in self:
            account.sync_message_count = counts.get(account, 0)

    # ------------------------------------------------------------------ entry points

    def action_sync(self):
        """Button « Synchroniser »: sync now (bounded in time), then keep syncing automatically."""
        results = self.sync_now()
        failed = [r for r in results if r["state"] == "error"]
        busy = [r for r in results if r["state"] == "busy"]
        if failed:
            message, kind = "\n".join(r["error"] for r in failed), "danger"
        elif busy:
            message, kind = self.env._("A synchronization of this account is already running."), "warning"
        else:
            message = self.env._("%(count)s new email(s) synchronized.", count=sum(r["new"] for r in results))
            kind = "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Synchronization"),
                "message": message,
                "type": kind,
                "sticky": bool(failed),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def sync_now(self, time_budget=INTERACTIVE_BUDGET):
        """Synchronize these accounts now; public API (XML-RPC / JSON-RPC) for admins and integrators.

        :return: one dict per account: ``id``, ``state`` (ok / error / busy), ``new`` emails,
                 ``message_count``, ``error`` (French reason or False)
        """
        self.check_access("read")
        self._check_manage()
        results = []
        for account in self:
            results.append(account.sudo()._sync(time_budget=time_budget, enable=True))
        if any(r["more"] for r in results):
            self.env.ref("comunik_mail.ir_cron_comunik_mail_sync")._trigger()
        for result in results:
            result.pop("more")
        return results

    def get_sync_state(self):
        """Sync state for monitoring; public API."""
        self.check_access("read")
        return [
            {
                "id": account.id,
                "email": account.email,
                "state": account.sync_state,
                "last_sync": fields.Datetime.to_string(account.sync_date) if account.sync_date else False,
                "message_count": account.sync_message_count,
                "error": account.sync_error_message or False,
                "error_date": fields.Datetime.to_string(account.sync_error_date) if account.sync_error_date else False,
            }
            for account in self
        ]

    @api.model
    def _cron_sync(self, time_budget=240.0):
        """Scheduled action: every account with automatic sync, each isolated from the others' failures."""
        deadline = time.monotonic() + time_budget
        now = fields.Datetime.now()
        accounts = self.sudo().search(
            [("sync_enabled", "=", True), "|", ("sync_retry_date", "=", False), ("sync_retry_date", "<=", now)],
            order="sync_date asc nulls first",
        )
        more = False
        for account in accounts:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                more = True
                break
            try:
                more |= account._sync(time_budget=remaining)["more"]
            except Exception:  # noqa: BLE001 - one broken account must never stop the others
                _logger.exception("Synchronization of %s failed unexpectedly", account.email)
        if more:
            self.env.ref("comunik_mail.ir_cron_comunik_mail_sync")._trigger()

    # ------------------------------------------------------------------ engine

    def _sync(self, time_budget=INTERACTIVE_BUDGET, batch_size=imap_sync.DEFAULT_BATCH_SIZE, enable=False):
        """Fetch what is new in INBOX, committing after every batch (a crash loses at most one batch).

        Runs in its own cursor, holding a PostgreSQL advisory lock on the account
        for its whole duration, so the cron, the button and the API never sync
        one account twice at the same time. The caller must not hold uncommitted
        writes on the account (they would lock its row): waiting for such a lock
        is bounded and reported as an error instead of hanging.
        """
        self.ensure_one()
        result = {"id": self.id, "state": "ok", "new": 0, "more": False, "error": False, "message_count": 0}
        self.env.flush_all()  # the sync cursor must see what the caller wrote (e.g. a new password)
        with self.env.registry.cursor() as cr:
            env = self.env(cr=cr)
            account = env[self._name].browse(self.id)
            if not account._try_lock():
                result["state"] = "busy"
                return result
            cr.execute("SET lock_timeout = '15s'")
            try:
                if enable and not account.sync_enabled:
                    account.sync_enabled = True
                result.update(account._sync_locked(time_budget, batch_size))
            except LockNotAvailable:
                result.update(state="error", error=self.env._("The account is being modified: try again."))
            finally:
                cr.rollback()  # everything worth keeping was committed batch by batch
                cr.execute("RESET lock_timeout")
                account._unlock()
            account.invalidate_recordset(["sync_message_count"])
            result["message_count"] = account.sync_message_count
        self.env.invalidate_all()  # the caller's cache predates what the sync cursor committed
        return result

    def _commit(self):
        """Commit the sync's own cursor (never the caller's): progress survives a crash, batch by batch."""
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _try_lock(self):
        self.env.cr.execute(SQL("SELECT pg_try_advisory_lock(%s, %s)", LOCK_NAMESPACE, self.id))
        return self.env.cr.fetchone()[0]

    def _unlock(self):
        self.env.cr.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", LOCK_NAMESPACE, self.id))

    def _sync_locked(self, time_budget, batch_size):
        deadline = time.monotonic() + time_budget
        self.sync_state = "running"
        self._commit()
        folder = self._sync_folder("INBOX")
        since = imap_sync.period_start(self.sync_period, fields.Date.context_today(self))
        new = 0
        more = False
        try:
            with imap_sync.ImapFolderReader(self.sudo()._imap_settings(), folder.name) as reader:
                plan = reader.plan(int(folder.uidvalidity or 0), int(folder.last_uid or 0), since)
                if plan.rescan:
                    _logger.info("UIDVALIDITY of %s changed: rescanning the period", self.email)
                    folder.write({"uidvalidity": str(plan.state.uidvalidity), "last_uid": 0})
                elif not folder.uidvalidity:
                    folder.uidvalidity = str(plan.state.uidvalidity)
                for batch in reader.fetch(plan.uids, batch_size=batch_size):
                    new += self.env["comunik.mail.conversation"]._ingest(self, folder, batch)
                    folder.last_uid = max(int(folder.last_uid or 0), batch[-1].uid) if batch else folder.last_uid
                    self._commit()
                    self.env.invalidate_all()  # keep the cache at one batch: it would slow down every create
                    if time.monotonic() > deadline and batch and batch[-1].uid != plan.uids[-1]:
                        more = True
                        break
        except Exception as exc:  # noqa: BLE001 - any failure is reported on the account, never raised
            self.env.cr.rollback()
            error = self._sync_error_message(exc)
            self._record_failure(error, login_refused=connection.classify_error(exc) == connection.AUTH)
            return {"state": "error", "new": new, "error": error, "more": False}
        self.write(
            {
                "sync_state": "ok",
                "sync_date": fields.Datetime.now(),
                "sync_error_message": False,
                "sync_error_date": False,
                "sync_error_count": 0,
                "sync_auth_failure_count": 0,
                "sync_retry_date": False,
            }
        )
        self._commit()
        _logger.info("Synchronized %s: %d new email(s)%s", self.email, new, " (more to come)" if more else "")
        return {"state": "ok", "new": new, "more": more}

    def _sync_folder(self, name):
        folder = self.sudo().folder_ids.filtered(lambda f: f.name == name)
        return folder or self.env["comunik.mail.folder"].sudo().create({"account_id": self.id, "name": name})

    def _sync_error_message(self, exc):
        code = connection.classify_error(exc)
        if code == connection.PROTOCOL:
            _logger.warning("Synchronization of %s failed", self.email, exc_info=True)
        else:
            _logger.info("Synchronization of %s failed: %s", self.email, exc)
        settings = self.sudo()._imap_settings()
        # Stored text: in the language of the account's owner (the cron has none).
        account = self.with_context(lang=(self.owner_id or self.env.user).lang or self.env.lang)
        return account._failure_message("IMAP", settings, connection.CheckResult(code, str(exc)))

    def _record_failure(self, error, login_refused=False):
        count = self.sync_error_count + 1
        values = {
            "sync_state": "error",
            "sync_error_message": error,
            "sync_error_date": fields.Datetime.now(),
            "sync_error_count": count,
        }
        if login_refused:
            refusals = self.sync_auth_failure_count + 1
            values["sync_auth_failure_count"] = refusals
            values["sync_retry_date"] = fields.Datetime.now() + login_backoff(refusals)
        self.write(values)
        if count == FAILURES_BEFORE_NOTICE:
            self._notify_sync_failures(error)
        self._commit()

    def _reset_login_backoff(self):
        """A new password or a successful test: the next scheduled run tries again."""
        self.filtered("sync_retry_date").write({"sync_retry_date": False, "sync_auth_failure_count": 0})

    def _notify_sync_failures(self, error):
        """Tell the owner (personal box) or the admins (shared box) that sync keeps failing."""
        if self.category == "personal" and self.owner_id:
            partners = self.owner_id.partner_id
        else:
            partners = self.env.ref("comunik_mail.group_comunik_mail_admin").sudo().all_user_ids.partner_id
        self.sudo().message_notify(
            partner_ids=partners.ids,
            subject=self.env._("Synchronization of %s keeps failing", self.email),
            body=self.env._(
                "The last %(count)s synchronizations of %(email)s failed:\n%(error)s",
                count=FAILURES_BEFORE_NOTICE,
                email=self.email,
                error=error,
            ),
        )


def login_backoff(refusals):
    """Wait before the next automatic try after ``refusals`` refused logins in a row (doubling, capped)."""
    return min(LOGIN_BACKOFF_FIRST * (2 ** min(max(refusals - 1, 0), 16)), LOGIN_BACKOFF_MAX)
