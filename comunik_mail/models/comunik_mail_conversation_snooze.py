from datetime import UTC

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import format_datetime

from ..services import snooze

#: Fields that, named in an inbox search, mean the user asks about snoozed conversations themselves
#: (the « En attente » filter): the inbox then stops hiding them, as Odoo's « Archivé » filter does with active.
SNOOZE_SEARCH_FIELDS = {"snooze_until", "is_snoozed"}
#: Conversations woken by one cron run; more are left to an immediate second run.
WAKE_BATCH = 500


class ComunikMailConversation(models.Model):
    """« Mettre en attente jusqu'au… »: a snoozed conversation leaves the inbox until its date, or until the
    customer replies (option), or until someone clicks « Reprendre ».

    While snoozed, the response clock stands still: a snoozed conversation is never overdue, and at wake-up the
    time it spent snoozed (in the box's working hours) is added to its response delay, so its deadline moves
    by exactly the pause (``_deadline_hours``). A conversation that was already late when snoozed stays late.
    """

    # One file per feature of the conversation (snooze, merge, collision), as Odoo splits mail.thread.
    _inherit = "comunik.mail.conversation"  # pylint: disable=consider-merging-classes-inherited

    snooze_until = fields.Datetime("Snoozed Until", readonly=True, copy=False, index="btree_not_null")
    snooze_date = fields.Datetime("Snoozed On", readonly=True, copy=False)
    snooze_user_id = fields.Many2one("res.users", "Snoozed By", readonly=True, copy=False)
    snooze_wake_on_reply = fields.Boolean("Wake Up If the Customer Replies", readonly=True, copy=False)
    snooze_paused_hours = fields.Float(
        "Snoozed Hours",
        readonly=True,
        copy=False,
        help="Time spent snoozed while the response clock was running (working hours with a calendar), "
        "added to the response delay.",
    )
    is_snoozed = fields.Boolean("Snoozed", compute="_compute_is_snoozed", search="_search_is_snoozed")

    @api.depends("snooze_until")
    def _compute_is_snoozed(self):
        for conversation in self:
            conversation.is_snoozed = bool(conversation.snooze_until)

    def _search_is_snoozed(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on “Snoozed”."))
        return [("snooze_until", "!=" if (operator == "=") == value else "=", False)]

    # ------------------------------------------------------------------ deadline clock

    def _deadline_hours(self):
        return super()._deadline_hours() + self.snooze_paused_hours

    @api.depends("snooze_paused_hours")
    def _compute_deadline(self):
        return super()._compute_deadline()

    def _compute_is_overdue(self):
        result = super()._compute_is_overdue()
        for conversation in self:
            if conversation.snooze_until:
                conversation.is_overdue = False  # the clock stands still while snoozed
        return result

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return super()._search_is_overdue(operator, value)
        overdue = ["&", ("snooze_until", "=", False), *super()._search_is_overdue("=", True)]
        return overdue if (operator == "=") == value else ["!", *overdue]

    def _snooze_pause_hours(self, end):
        """Hours this snooze, from its start to ``end``, adds to the response delay (see services/snooze)."""
        self.ensure_one()
        start = self.snooze_date
        if not snooze.paused_hours(start, end, self.deadline) or self.state == "closed":
            return 0.0
        calendar = self.account_id.department_ids.resource_calendar_id[:1]
        if calendar:
            return calendar.get_work_hours_count(start.replace(tzinfo=UTC), end.replace(tzinfo=UTC))
        return snooze.paused_hours(start, end, self.deadline)

    # ------------------------------------------------------------------ actions

    def action_snooze(self, until, wake_on_reply=True):
        """Snooze until ``until`` (UTC), waking up early on a customer reply when ``wake_on_reply``.

        Allowed to whoever may work the conversations (assignee, dispatchers, admins), checked first."""
        self.check_access("read")
        self._check_can_work()
        try:
            until = fields.Datetime.to_datetime(until)
        except (TypeError, ValueError):
            until = None
        if not until:
            raise UserError(self.env._("Choose the date and time the snooze ends."))
        now = self._now()
        problem = snooze.check_until(until, now)
        if problem == snooze.PAST:
            raise UserError(self.env._("The snooze must end in the future."))
        if problem == snooze.TOO_FAR:
            raise UserError(
                self.env._("An email can be snoozed for at most %s days.", snooze.MAX_SNOOZE.days),
            )
        closed = self.filtered(lambda conversation: conversation.state == "closed")
        if closed:
            raise UserError(self.env._("A closed email cannot be snoozed: %s", ", ".join(closed.mapped("subject"))))
        when = format_datetime(self.env, until, tz=self.env.user.tz or "UTC", dt_format="short")
        if wake_on_reply:
            note = self.env._(
                "Snoozed until %(date)s by %(name)s (back earlier if the customer replies).",
                date=when,
                name=self.env.user.name,
            )
        else:
            note = self.env._("Snoozed until %(date)s by %(name)s.", date=when, name=self.env.user.name)
        for conversation in self.sudo():
            values = {
                "snooze_until": until,
                "snooze_wake_on_reply": bool(wake_on_reply),
                "snooze_user_id": self.env.uid,
            }
            if not conversation.snooze_date:  # a new date for a snoozed email keeps the pause's start
                values["snooze_date"] = now
            conversation.write(values)
            conversation.message_post(body=note, message_type="notification", subtype_xmlid="mail.mt_note")
        self._notify_banner()
        return True

    def action_unsnooze(self):
        """« Reprendre »: end the snooze now (same rights as snoozing)."""
        self.check_access("read")
        self._check_can_work()
        self.sudo().filtered("snooze_until")._wake("manual")
        return True

    def action_close(self):
        """Closing a snoozed email ends its snooze first (its pause counts: statistics compare the close date with
        the deadline)."""
        self._check_can_work()
        self.sudo().filtered("snooze_until")._wake("closed")
        return super().action_close()

    # ------------------------------------------------------------------ waking up

    def _wake(self, reason):
        """End the snooze of these conversations (already checked, or the superuser): the deadline moves by the
        pause, a note says why, the assignee (else whoever snoozed) is notified."""
        now = self._now()
        for conversation in self:
            recipient = conversation.user_id or conversation.snooze_user_id
            paused = conversation._snooze_pause_hours(now)
            values = {
                "snooze_until": False,
                "snooze_date": False,
                "snooze_user_id": False,
                "snooze_wake_on_reply": False,
                "snooze_paused_hours": conversation.snooze_paused_hours + paused,
            }
            if reason in ("date", "reply"):
                values["is_new"] = True  # back in the inbox like a new email
            conversation.write(values)
            local = conversation.with_context(lang=recipient.lang or self.env.lang)
            notes = {
                "date": local.env._("End of the snooze: its date has come."),
                "reply": local.env._("End of the snooze: the customer replied."),
                "manual": local.env._("End of the snooze, by %s.", self.env.user.name),
                "closed": local.env._("End of the snooze: closed by %s.", self.env.user.name),
            }
            notify = recipient and reason != "closed" and not (reason == "manual" and recipient == self.env.user)
            local.message_post(
                body=notes[reason],
                message_type="notification",
                subtype_xmlid="mail.mt_note",
                partner_ids=recipient.partner_id.ids if notify else [],
            )
        # An unassigned email of an automatic box was left out of the assignment while snoozed: given out now.
        waking = self.filtered(lambda conversation: conversation.state == "unassigned" and not conversation.user_id)
        if waking and reason != "closed":
            self.env["comunik.mail.assignment"]._assign_backlog(waking.account_id)
        self._notify_banner()

    def _wake_on_reply(self):
        """The ingestion's hook: customer replies (already stored) wake the conversations snoozed with the option."""
        self.filtered(lambda conversation: conversation.snooze_until and conversation.snooze_wake_on_reply)._wake(
            "reply"
        )

    @api.model
    def _cron_wake_snoozed(self):
        """Scheduled action « Email: end snoozes »: wake the conversations whose date has come."""
        due = self.sudo().search([("snooze_until", "<=", self._now())], order="snooze_until, id", limit=WAKE_BATCH)
        due._wake("date")
        if len(due) == WAKE_BATCH:
            self.env.ref("comunik_mail.ir_cron_comunik_mail_snooze")._trigger()
        return len(due)

    # ------------------------------------------------------------------ inbox

    def _inbox_domain(self, domain):
        """The inbox (context ``comunik_hide_snoozed``, set by its action) hides snoozed conversations unless
        the search names them (« En attente »)."""
        if not self.env.context.get("comunik_hide_snoozed"):
            return domain
        domain = Domain(domain)
        if any(condition.field_expr.split(".")[0] in SNOOZE_SEARCH_FIELDS for condition in domain.iter_conditions()):
            return domain
        return domain & Domain("snooze_until", "=", False)

    @api.model
    def web_search_read(self, domain, specification, offset=0, limit=None, order=None, count_limit=None):
        return super().web_search_read(
            self._inbox_domain(domain), specification, offset=offset, limit=limit, order=order, count_limit=count_limit
        )

    @api.model
    @api.readonly
    def web_read_group(self, domain, groupby, aggregates=(), limit=None, offset=0, order=None, **kwargs):
        return super().web_read_group(
            self._inbox_domain(domain), groupby, aggregates, limit=limit, offset=offset, order=order, **kwargs
        )

    @api.model
    def action_open_inbox(self):
        action = super().action_open_inbox()
        if isinstance(action.get("context"), dict):  # else the action's own, which hides them already
            action["context"] = {**action["context"], "comunik_hide_snoozed": True}
        return action
