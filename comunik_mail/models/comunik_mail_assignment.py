"""Automatic assignment of the emails of shared boxes (« Mode d'attribution »: Tour de rôle, Équilibré).

One entry point, ``_assign_backlog(accounts)``: the unassigned emails of each box, longest-waiting first, go to
its eligible members until they are full (decisions: ``services/assignment``). It runs

* after the sync stores new conversations (``comunik.mail.ingestion``, step « assign »),
* when capacity frees or the settings change: an email closed or reassigned, a box's mode or a capacity changed,
* every minute (``_cron_assign``): members back at work, back from leave or online again.

Race-free: per box, the pass holds a transaction-level advisory lock (``pg_advisory_xact_lock``) from reading the
loads to writing the assignments, and first bumps the box's ``assign_pass_count``. Odoo's transactions are
REPEATABLE READ: a pass whose snapshot predates another pass's commit fails that update (serialization failure)
instead of counting stale loads; it then leaves the box alone (the other pass, or the next one, serves it).
The cron runs each box in a READ COMMITTED transaction of its own, which sees every commit made before the lock.
"""

import logging
import time
import zlib
from datetime import UTC, timedelta

import psycopg2.errors
import psycopg2.extensions

from odoo import SUPERUSER_ID, api, fields, models
from odoo.sql_db import Cursor
from odoo.tools import SQL

from ..services import assignment

_logger = logging.getLogger(__name__)

#: Advisory-lock namespace of assignment passes (one per box at a time, across processes).
ASSIGN_LOCK_NAMESPACE = zlib.crc32(b"comunik_mail.assign") & 0x7FFFFFFF
#: Presence statuses that mean « not connected » (``res.users.im_status``).
OFFLINE = frozenset({"offline", "leave_offline", "bot", ""})
#: Open conversations: they count in their assignee's load.
OPEN_DOMAIN_SQL = "c.active AND c.state != 'closed' AND c.user_id IS NOT NULL"
#: A pass gives out at most this many emails (the next pass, a minute later at most, goes on).
MAX_PER_PASS = 5000
#: Above this many emails for one member in one pass, one summary notification instead of one each.
NOTIFY_EACH_LIMIT = 10
#: Transactions lost to another pass of the same box: it is left for that pass or the next one.
CONFLICTS = (
    psycopg2.extensions.TransactionRollbackError,  # serialization failure, deadlock
    psycopg2.errors.LockNotAvailable,
)
CRON_ATTEMPTS = 3


class ComunikMailAssignment(models.AbstractModel):
    _name = "comunik.mail.assignment"
    _description = "Automatic Email Assignment"

    # ------------------------------------------------------------------ entry points

    @api.model
    def _assign_backlog(self, accounts):
        """Assign what waits in these boxes (automatic modes only); return the conversations assigned.

        In the caller's transaction. A box another transaction assigned since this one began is skipped
        (its pass, or the cron's next one, serves it): the caller's work is never lost to a conflict.
        """
        # As the superuser (OdooBot writes the notes), after the caller's own rights were checked.
        self = self.with_env(self.env(user=SUPERUSER_ID, su=True))  # noqa: PLW0642
        assigned = self.env["comunik.mail.conversation"]
        for account in self._automatic(accounts.with_env(self.env)):
            try:
                with self.env.cr.savepoint():
                    assigned |= self._assign_box(account)
            except CONFLICTS as exc:
                _logger.info("Assignment of %s left to a concurrent pass: %s", account.email, exc)
        return assigned

    @api.model
    def _cron_assign(self):
        """Scheduled action: drain the backlog of every automatic box, each in a transaction of its own."""
        self.env.flush_all()
        accounts = self._automatic(self.env["comunik.mail.account"].sudo().search([("category", "=", "shared")]))
        for account_id in accounts.ids:
            for attempt in range(CRON_ATTEMPTS):
                try:
                    with self.env.registry.cursor() as cr:
                        if isinstance(cr, Cursor):  # a real transaction (tests share theirs: a TestCursor)
                            # Before any query: each statement then sees what was committed before it (the lock's
                            # waiters see the loads of the pass they waited for).
                            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                        env = self.env(cr=cr, su=True)
                        env[self._name]._assign_box(env["comunik.mail.account"].browse(account_id))
                    break
                except CONFLICTS as exc:
                    _logger.info("Assignment of box %s conflicted (%s), attempt %d", account_id, exc, attempt + 1)
                    time.sleep(0.05 * (attempt + 1))
                except Exception:  # noqa: BLE001 - one box must never stop the others
                    _logger.exception("Automatic assignment of box %s failed", account_id)
                    break
        self.env.invalidate_all()

    # ------------------------------------------------------------------ one box

    @api.model
    def _automatic(self, accounts):
        return accounts.sudo().filtered(
            lambda a: a.active and a.category == "shared" and a.assign_mode in assignment.AUTOMATIC_MODES
        )

    @api.model
    def _assign_box(self, account):
        """One pass over one box's backlog, under its lock (see the module docstring)."""
        account = account.sudo()
        cr = self.env.cr
        self.env.flush_all()
        if not self._has_backlog(account):
            return self.env["comunik.mail.conversation"]
        cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", ASSIGN_LOCK_NAMESPACE, account.id))
        # Fails (serialization) when another pass committed after this transaction's snapshot.
        cr.execute(
            "UPDATE comunik_mail_account SET assign_pass_count = COALESCE(assign_pass_count, 0) + 1 WHERE id = %s",
            [account.id],
        )
        account.invalidate_recordset(["assign_pass_count", "assign_last_user_id"])
        members = self._eligible_members(account)
        if not members:
            return self.env["comunik.mail.conversation"]
        waiting = self._waiting(account)
        plan = assignment.plan_backlog(
            account.assign_mode,
            members,
            waiting,
            last_user_id=account.assign_last_user_id.id or None,
            sticky=self._last_handlers(account, {w.partner_id for w in waiting if w.partner_id}),
        )
        if not plan.assignments:
            return self.env["comunik.mail.conversation"]
        assigned = self._apply(account, plan)
        account.assign_last_user_id = plan.last_user_id or False
        self.env.flush_all()
        assigned._mark_read_on_server()
        return assigned

    @api.model
    def _has_backlog(self, account):
        self.env.cr.execute(
            """SELECT 1 FROM comunik_mail_conversation
                WHERE account_id = %s AND active AND state = 'unassigned' AND user_id IS NULL
                  AND snooze_until IS NULL LIMIT 1""",
            [account.id],
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _waiting(self, account):
        """The backlog, oldest first, its rows locked for the pass: a dispatcher assigning one of them meanwhile
        waits for this pass (READ COMMITTED: a row a dispatcher assigned just before is no longer selected)."""
        self.env.cr.execute(
            """SELECT id, date_first, priority, partner_id FROM comunik_mail_conversation
                WHERE account_id = %s AND active AND state = 'unassigned' AND user_id IS NULL
                  AND snooze_until IS NULL  -- a snoozed email is given out when it wakes, not before
                ORDER BY date_first NULLS LAST, id LIMIT %s FOR UPDATE""",
            [account.id, MAX_PER_PASS],
        )
        return [assignment.Waiting(*row) for row in self.env.cr.fetchall()]

    @api.model
    def _last_handlers(self, account, partner_ids):
        """Customer -> the member who last handled them in this box (their latest conversation with one)."""
        if not partner_ids:
            return {}
        self.env.cr.execute(
            """SELECT DISTINCT ON (partner_id) partner_id, last_user_id FROM comunik_mail_conversation
                WHERE account_id = %s AND partner_id = ANY(%s) AND last_user_id IS NOT NULL
                ORDER BY partner_id, assign_date DESC NULLS LAST, id DESC""",
            [account.id, sorted(partner_ids)],
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _loads(self, accounts):
        """(account id, user id) -> weight of the user's open conversations in that box (urgent ones twice)."""
        account_ids = [account_id for account_id in accounts.ids if isinstance(account_id, int)]
        if not account_ids:
            return {}
        self.env["comunik.mail.conversation"].flush_model()
        self.env.cr.execute(
            f"""SELECT c.account_id, c.user_id, c.priority, count(*) FROM comunik_mail_conversation c
                 WHERE c.account_id = ANY(%s) AND {OPEN_DOMAIN_SQL}
                 GROUP BY c.account_id, c.user_id, c.priority""",  # noqa: S608 - constant SQL
            [account_ids],
        )
        loads = {}
        for account_id, user_id, priority, count in self.env.cr.fetchall():
            key = (account_id, user_id)
            loads[key] = loads.get(key, 0) + assignment.weight(priority) * count
        return loads

    # ------------------------------------------------------------------ eligibility

    @api.model
    def _eligible_members(self, account):
        """The box's department members who may take an email now, with their load and capacity."""
        employees = account.department_ids.member_ids.sudo().filtered(lambda e: e.user_id and e.user_id.active)
        by_user = {}
        for employee in employees:
            by_user.setdefault(employee.user_id, employee)
        if not by_user:
            return []
        now = fields.Datetime.now().replace(tzinfo=UTC)
        working = self._working_employees(self.env["hr.employee"].sudo().concat(*by_user.values()), now)
        capacities = {line.user_id.id: line.capacity for line in account.assign_member_ids}
        loads = self._loads(account)
        members = []
        for user, employee in by_user.items():
            if user.is_out_of_office or self._on_time_off(employee) or employee not in working:
                continue
            if account.assign_online_only and (user.im_status or "") in OFFLINE:
                continue
            members.append(assignment.Member(user.id, loads.get((account.id, user.id), 0), capacities.get(user.id, 0)))
        return members

    @api.model
    def _working_employees(self, employees, now):
        """Employees within their working hours now (their calendar, else their company's; leaves and public
        holidays of ``resource.calendar.leaves`` excluded, hence validated time off too). No calendar: always."""
        working = self.env["hr.employee"].sudo()
        by_calendar = {}
        for employee in employees:
            calendar = employee.resource_calendar_id or employee.company_id.resource_calendar_id
            if not calendar:
                working |= employee
                continue
            by_calendar.setdefault(calendar, []).append(employee)
        for calendar, members in by_calendar.items():
            resources = self.env["resource.resource"].sudo().concat(*(e.resource_id for e in members))
            intervals = calendar._work_intervals_batch(
                now - timedelta(minutes=1), now + timedelta(minutes=1), resources=resources
            )
            for employee in members:
                if any(start <= now < stop for start, stop, _records in intervals[employee.resource_id.id]):
                    working |= employee
        return working

    @api.model
    def _on_time_off(self, employee):
        """Soft bridge to Time Off (hr_holidays), when installed: absent today."""
        return "hr.leave" in self.env and "is_absent" in employee._fields and bool(employee.is_absent)

    # ------------------------------------------------------------------ writing

    @api.model
    def _apply(self, account, plan):
        """Write the plan (one write per member), and say why in each conversation's chatter."""
        Conversation = self.env["comunik.mail.conversation"].sudo()
        now = fields.Datetime.now()
        per_user = {}
        for conversation_id, choice in plan.assignments:
            per_user.setdefault(choice.user_id, []).append((conversation_id, choice))
        assigned = Conversation
        for user_id, items in per_user.items():
            user = self.env["res.users"].sudo().browse(user_id)
            by_reason = {}
            for conversation_id, choice in items:
                by_reason.setdefault(choice.reason, []).append(conversation_id)
            for reason, ids in by_reason.items():
                Conversation.browse(ids).with_context(tracking_disable=True).write(
                    {
                        "user_id": user_id,
                        "last_user_id": user_id,
                        "state": "assigned",
                        "assign_date": now,
                        "assign_method": reason,
                    }
                )
            notify = len(items) <= NOTIFY_EACH_LIMIT
            for conversation_id, choice in items:
                conversation = Conversation.browse(conversation_id).with_context(lang=user.lang or self.env.lang)
                conversation.message_post(
                    body=conversation._automatic_assignment_note(user, choice),
                    message_type="notification",
                    subtype_xmlid="mail.mt_note",
                    partner_ids=user.partner_id.ids if notify else [],
                )
            if not notify:
                first = Conversation.browse(items[0][0]).with_context(lang=user.lang or self.env.lang)
                first.message_notify(
                    partner_ids=user.partner_id.ids,
                    subject=first.env._("%s emails assigned to you", len(items)),
                    body=first.env._("%s emails were assigned to you automatically.", len(items)),
                )
            assigned |= Conversation.browse([conversation_id for conversation_id, _choice in items])
        return assigned
