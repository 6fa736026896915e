import logging
from datetime import UTC, timedelta
from email.utils import formataddr, parseaddr

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import email_normalize

from ..services import dates, imap_sync
from .comunik_mail_ingestion import QUIET_CONTEXT

_logger = logging.getLogger(__name__)

__all__ = ["QUIET_CONTEXT", "ComunikMailConversation"]

STATES = [
    ("unassigned", "Unassigned"),
    ("assigned", "Assigned"),
    ("in_progress", "In Progress"),
    ("to_process", "To Process"),
    ("closed", "Closed"),
]
PRIORITIES = [("0", "Normal"), ("1", "High"), ("2", "Urgent")]
WORKFLOW_FIELDS = {"state", "user_id", "last_user_id", "priority", "assign_date", "close_date", "assign_method"}
#: How a conversation got its assignee (manual dispatch, or the box's automatic mode; see services/assignment).
ASSIGN_METHODS = [
    ("manual", "Manual"),
    ("round_robin", "Round Robin"),
    ("balanced", "Balanced"),
    ("sticky", "Same Customer"),
]
#: What users may write directly (form, RPC); everything else changes through the actions, which check
#: who may do what, or through the sync (superuser). The ORM ignores ``readonly``: this is the real rule.
USER_WRITABLE_FIELDS = {"label_ids", "partner_id"}
#: Message-IDs kept in References: the thread's start and its latest emails are what clients use.
MAX_REFERENCES = 20
#: Changes that move the banner counters (see comunik.mail.banner.config).
BANNER_FIELDS = {"state", "user_id", "is_new", "deadline", "active", "account_id"}
#: Above this many conversations, one assignment sends one summary notification instead of one each.
NOTIFY_EACH_LIMIT = 10


class ComunikMailConversation(models.Model):
    """One email thread of one account, its emails being the chatter's mail.message records.

    Team workflow: dispatch, statuses, deadlines (guide: « Rôle du dispatcheur »), and replies that
    leave from the account's address and SMTP server, threaded for the customer (In-Reply-To /
    References) so that the answer comes back to the same conversation. Emails come in through
    ``comunik.mail.ingestion``.
    """

    _name = "comunik.mail.conversation"
    _description = "Email Conversation"
    _inherit = ["mail.thread"]
    _order = "date_last desc, id desc"
    _rec_name = "subject"
    _mail_post_access = "read"

    account_id = fields.Many2one(
        "comunik.mail.account", "Email Account", required=True, index=True, ondelete="cascade", readonly=True
    )
    category = fields.Selection(related="account_id.category", store=True)
    folder_id = fields.Many2one(
        "comunik.mail.folder",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
        help="The folder of the mailbox where its first email was found.",
    )
    subject = fields.Char(readonly=True)
    partner_id = fields.Many2one("res.partner", "Correspondent", index=True)
    email_from = fields.Char("From", readonly=True)
    # Receive dates (IMAP INTERNALDATE): they order the inbox and start deadlines and statistics.
    date_first = fields.Datetime("Received On", readonly=True)
    date_last = fields.Datetime("Last Message", readonly=True, index=True)
    # The first email's Date: header, when sane: what the sender's clock said.
    sender_date = fields.Datetime("Sender's Date", readonly=True)
    receive_error = fields.Text(
        "Reception Error",
        readonly=True,
        groups="comunik_mail.group_comunik_mail_admin",
        help="An email of this conversation could not be stored normally (received with errors).",
    )
    is_new = fields.Boolean("New", default=True, help="Shows the blue “New” badge until opened, read or assigned.")
    message_count = fields.Integer("Emails", compute="_compute_message_count")
    active = fields.Boolean(default=True)
    lead_id = fields.Many2one("crm.lead", index="btree_not_null", readonly=True, ondelete="set null")
    label_ids = fields.Many2many("comunik.mail.label", string="Labels")

    def _compute_message_count(self):
        counts = dict(
            self.env["mail.message"]._read_group(
                [("model", "=", self._name), ("res_id", "in", self.ids), ("message_type", "=", "email")],
                ["res_id"],
                ["__count"],
            )
        )
        for conversation in self:
            conversation.message_count = counts.get(conversation.id, 0)

    state = fields.Selection(STATES, "Status", default="unassigned", required=True, index=True, tracking=True)
    user_id = fields.Many2one("res.users", "Assigned To", index=True, tracking=True, readonly=True)
    last_user_id = fields.Many2one("res.users", "Last Assignee", readonly=True)
    priority = fields.Selection(PRIORITIES, default="0", tracking=True, readonly=True)
    assign_date = fields.Datetime("Assigned On", readonly=True)
    assign_method = fields.Selection(ASSIGN_METHODS, "Assigned By", readonly=True)
    close_date = fields.Datetime("Closed On", readonly=True)
    deadline = fields.Datetime(compute="_compute_deadline", store=True, index=True)
    is_overdue = fields.Boolean("Overdue", compute="_compute_is_overdue", search="_search_is_overdue")
    send_failure_count = fields.Integer(
        "Unsent Replies", compute="_compute_send_failure_count", help="Replies kept after a sending failure."
    )
    first_response_date = fields.Datetime("First Response On", readonly=True)
    first_response_hours = fields.Float(
        "First Response Time (hours)", compute="_compute_first_response_hours", store=True, aggregator="avg"
    )

    @api.depends("date_first", "account_id.response_delay", "account_id.department_ids.resource_calendar_id")
    def _compute_deadline(self):
        for conversation in self:
            account = conversation.account_id
            if not (account.response_delay and conversation.date_first):
                conversation.deadline = False
                continue
            calendar = account.department_ids.resource_calendar_id[:1]
            start = conversation.date_first
            hours = conversation._deadline_hours()
            if calendar:
                end = calendar.plan_hours(hours, start.replace(tzinfo=UTC), compute_leaves=True)
                conversation.deadline = end.astimezone(UTC).replace(tzinfo=None) if end else False
            else:
                conversation.deadline = dates.safe_add(start, timedelta(hours=hours))

    def _deadline_hours(self):
        """Hours (working hours with a calendar) from reception to the deadline: the box's response delay,
        plus the time spent snoozed (see comunik_mail_conversation_snooze)."""
        return self.account_id.response_delay

    @api.depends_context("comunik_now")
    def _compute_is_overdue(self):
        now = self._now()
        for conversation in self:
            conversation.is_overdue = bool(
                conversation.deadline and conversation.state != "closed" and conversation.deadline < now
            )

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on “Overdue”."))
        domain = ["&", ("state", "!=", "closed"), "&", ("deadline", "!=", False), ("deadline", "<", self._now())]
        return domain if (operator == "=") == value else ["!", *domain]

    def _now(self):
        return self.env.context.get("comunik_now") or fields.Datetime.now()

    # ------------------------------------------------------------------ rights

    def _has_field_access(self, field, operation):
        if operation == "write" and not self.env.su and field.name not in USER_WRITABLE_FIELDS:
            return False
        return super()._has_field_access(field, operation)

    def write(self, vals):
        """Workflow fields change only through the actions, which check who may do what."""
        if not self.env.su and WORKFLOW_FIELDS & set(vals):
            raise AccessError(self.env._("Use the Assign, Start, To Process, Close and Reopen buttons."))
        if not self.env.su and set(vals) - USER_WRITABLE_FIELDS:
            raise AccessError(
                self.env._(
                    "These fields of an email conversation cannot be changed by hand: %s.",
                    ", ".join(sorted(set(vals) - USER_WRITABLE_FIELDS)),
                )
            )
        if BANNER_FIELDS & set(vals):
            self._notify_banner()
        return super().write(vals)

    @api.model_create_multi
    def create(self, vals_list):
        conversations = super().create(vals_list)
        conversations._notify_banner()
        return conversations

    def _notify_banner(self):
        """Tell the users who see these shared inboxes that their banner changed, once per transaction
        (a sync batch of 200 emails sends one message per user, at commit)."""
        account_ids = {conversation.account_id.id for conversation in self if conversation.category == "shared"}
        if not account_ids:
            return
        data = self.env.cr.precommit.data
        pending = data.get("comunik_mail.banner_accounts")
        if pending is None:
            pending = data["comunik_mail.banner_accounts"] = set()
            env = self.env(su=True)

            @self.env.cr.precommit.add
            def send_banner_refresh():
                accounts = env["comunik.mail.account"].browse(data.pop("comunik_mail.banner_accounts", ())).exists()
                admins = env.ref("comunik_mail.group_comunik_mail_admin").all_user_ids
                users = admins | accounts.dispatcher_ids | accounts._member_users()
                users._bus_send("comunik_mail.banner", {"account_ids": accounts.ids})

        pending.update(account_ids)

    def _check_can_dispatch(self):
        """Dispatchers of every account concerned, or admins."""
        if self.env.su or self.env.user.has_group("comunik_mail.group_comunik_mail_admin"):
            return
        for account in self.account_id:
            if self.env.user not in account.dispatcher_ids:
                raise AccessError(self.env._("Only the dispatchers of %s can assign its emails.", account.email))

    def _check_can_work(self):
        """The assignee works on a conversation; dispatchers and admins may too."""
        for conversation in self:
            if conversation.user_id != self.env.user:
                conversation._check_can_dispatch()

    # ------------------------------------------------------------------ transitions

    def action_assign(self, user, priority="0"):
        """Assign (or reassign) to a member of the account's departments, in one write."""
        self._check_can_dispatch()
        user = self.env["res.users"].browse(user) if isinstance(user, int) else user
        for account in self.account_id:
            if user not in account._member_users():
                raise UserError(
                    self.env._(
                        "%(user)s is not a member of the departments of %(email)s.",
                        user=user.name,
                        email=account.email,
                    )
                )
        # Our own notification below replaces Odoo's per-record "assigned to you" email (one per record).
        self.sudo().with_context(mail_auto_subscribe_no_notify=True).write(
            {
                "user_id": user.id,
                "last_user_id": user.id,
                "priority": priority,
                "state": "assigned",
                "is_new": False,
                "assign_date": fields.Datetime.now(),
                "assign_method": "manual",
            }
        )
        self._notify_assignee(user)
        self._mark_read_on_server()
        # A reassignment may free a place for the emails waiting in an automatic box.
        self.env["comunik.mail.assignment"]._assign_backlog(self.account_id)
        return True

    def action_start(self):
        self._check_can_work()
        self.sudo().write({"state": "in_progress", "is_new": False})

    def action_to_process(self):
        self._check_can_work()
        self.sudo().write({"state": "to_process", "is_new": False})

    def action_close(self):
        self._check_can_work()
        self.sudo().write({"state": "closed", "close_date": fields.Datetime.now(), "is_new": False})
        # Capacity freed: the longest-waiting email of an automatic box goes to whoever has room.
        self.env["comunik.mail.assignment"]._assign_backlog(self.account_id)

    def action_reopen(self):
        self._check_can_work()
        self.sudo()._reopen()

    def _reopen(self):
        for conversation in self:
            conversation.write(
                {
                    "state": "assigned" if conversation.last_user_id else "unassigned",
                    "user_id": conversation.last_user_id.id,
                    "close_date": False,
                }
            )

    def action_mark_read(self):
        """Opening or reading hides the « Nouveau » badge (purely visual)."""
        self.check_access("read")
        self.sudo().filtered("is_new").write({"is_new": False})

    def web_read(self, specification):
        # Opening a conversation (the form reads one record) removes its « Nouveau » badge;
        # lists and kanbans read through web_search_read, which leaves it.
        if len(self) == 1 and self.is_new and not self.env.context.get("comunik_listing"):
            self.action_mark_read()
        return super().web_read(specification)

    # Odoo serves web_read on a read-only cursor; this one writes (the badge), so it needs a read-write one.
    web_read._readonly = False

    @api.model
    def web_search_read(self, domain, specification, offset=0, limit=None, order=None, count_limit=None):
        return super(ComunikMailConversation, self.with_context(comunik_listing=True)).web_search_read(
            domain, specification, offset=offset, limit=limit, order=order, count_limit=count_limit
        )

    @api.model
    def action_open_inbox(self):
        """Email app entry: the inboxes the user may see, filtered on their primary account if any."""
        self.check_access("read")  # Email users only (model access), before the action is read with sudo
        action = self.env["ir.actions.act_window"]._for_xml_id("comunik_mail.action_comunik_mail_conversation")
        primary = self.env["comunik.mail.account"].browse(self.env.user.comunik_primary_account_id.id)
        if primary and primary.has_access("read"):
            action["context"] = {"search_default_account_id": primary.id}
        return action

    # ------------------------------------------------------------------ side effects

    def _notify_assignee(self, user):
        conversations = self.sudo()
        if len(conversations) <= NOTIFY_EACH_LIMIT:
            for conversation in conversations:
                conversation.message_notify(
                    partner_ids=user.partner_id.ids,
                    subject=self.env._("Email assigned to you: %s", conversation.subject),
                    body=self.env._("%(name)s assigned this email to you.", name=self.env.user.name),
                )
        else:
            conversations[0].message_notify(
                partner_ids=user.partner_id.ids,
                subject=self.env._("%s emails assigned to you", len(conversations)),
                body=self.env._(
                    "%(name)s assigned %(count)s emails to you.", name=self.env.user.name, count=len(conversations)
                ),
            )

    def _automatic_assignment_note(self, user, choice):
        """« Attribué à Julie Martin (tour de rôle, 3/10 en cours) », in the conversation's language."""
        reasons = {
            "round_robin": self.env._("round robin"),
            "balanced": self.env._("balanced"),
            "sticky": self.env._("same customer"),
        }
        reason = reasons.get(choice.reason, choice.reason)
        if choice.capacity:
            return self.env._(
                "Assigned to %(name)s (%(reason)s, %(load)s/%(capacity)s open)",
                name=user.name,
                reason=reason,
                load=choice.load,
                capacity=choice.capacity,
            )
        return self.env._(
            "Assigned to %(name)s (%(reason)s, %(load)s open)", name=user.name, reason=reason, load=choice.load
        )

    def _mark_read_on_server(self):
        """Option « Afficher aussi dans la boîte d'origine »: assigned emails become read on IMAP."""
        messages = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("comunik_account_id.mark_read_on_assign", "=", True),
                    ("comunik_uid", "!=", 0),
                ]
            )
        )
        per_folder = {}
        for message in messages:
            # UIDs are only trusted for the UIDVALIDITY they were stored with; else found by Message-ID.
            uidvalidity = message.comunik_uidvalidity or message.comunik_folder_id.uidvalidity
            uids, message_ids = per_folder.setdefault((message.comunik_folder_id, uidvalidity), (set(), set()))
            uids.add(int(message.comunik_uid))
            if message.message_id:
                message_ids.add(message.message_id)
        for (folder, uidvalidity), (uids, message_ids) in per_folder.items():
            account = folder.account_id
            try:
                imap_sync.set_seen(
                    account._imap_login_settings(),
                    uids,
                    folder.name,
                    uidvalidity=int(uidvalidity or 0) or None,
                    message_ids=sorted(message_ids),
                )
            except Exception as exc:  # noqa: BLE001 - the assignment stands; the next one retries
                _logger.warning("Could not mark %d email(s) read on %s: %s", len(uids), account.email, exc)

    # ------------------------------------------------------------------ replies

    @api.depends("date_first", "first_response_date")
    def _compute_first_response_hours(self):
        for conversation in self:
            if conversation.date_first and conversation.first_response_date:
                delta = conversation.first_response_date - conversation.date_first
                conversation.first_response_hours = max(delta.total_seconds(), 0) / 3600
            else:
                conversation.first_response_hours = 0.0

    def _is_external_reply(self, kwargs):
        """A message that will be emailed to the customer (not a log note)."""
        subtype = kwargs.get("subtype_xmlid") or ""
        return (
            kwargs.get("message_type", "notification") == "comment"
            and subtype != "mail.mt_note"
            and not (
                kwargs.get("subtype_id") and self.env["mail.message.subtype"].browse(kwargs["subtype_id"]).internal
            )
        )

    def message_post(self, **kwargs):
        external = len(self) == 1 and self.account_id and self._is_external_reply(kwargs)
        if external:
            self.check_access("read")  # posting needs read access (_mail_post_access); checked before the sudo
            account = self.account_id.sudo()
            # The author stays the user even though the address is the account's (Odoo would look the
            # author up by that address and find nobody).
            kwargs.setdefault("author_id", self.env.user.partner_id.id)
            # Always the account's address (Odoo's composer passes the user's own); the display name is
            # kept (a template's « Nom de l'expéditeur »), else the box's choice: the user's or the box's name.
            name = parseaddr(kwargs.get("email_from") or "")[0]
            if not name or name == self.env.user.name:
                name = self.account_id._sender_name(self.env.user)
            kwargs["email_from"] = formataddr((name, account.email))
            kwargs.setdefault("reply_to", account.email)
        message = super().message_post(**kwargs)
        if external and not self.first_response_date:
            self.sudo().first_response_date = fields.Datetime.now()
        return message

    def _compute_send_failure_count(self):
        """Seen by the whole team (Odoo's own error counter only shows the author's failures)."""
        counts = dict(
            self.env["mail.mail"]
            .sudo()
            ._read_group(
                [("model", "=", self._name), ("res_id", "in", self.ids), ("state", "=", "exception")],
                ["res_id"],
                ["__count"],
            )
        )
        for conversation in self:
            conversation.send_failure_count = counts.get(conversation.id, 0)

    def action_resend_failed(self):
        """Send again the replies that failed (kept in exception by Odoo), through the account's SMTP."""
        self.check_access("write")
        mails = (
            self.env["mail.mail"]
            .sudo()
            .search([("model", "=", self._name), ("res_id", "in", self.ids), ("state", "=", "exception")])
        )
        mails.action_retry()
        mails.send()
        failed = mails.exists().filtered(lambda mail: mail.state == "exception")
        if failed:
            title, message, kind = self.env._("Still not sent"), failed[0].failure_reason, "danger"
        else:
            title, message, kind = self.env._("Sent"), self.env._("%s message(s) sent.", len(mails)), "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "sticky": bool(failed),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _message_get_suggested_recipients_batch(self, *args, **kwargs):
        """Replying to a customer proposes the customer, never our own mailboxes (they were in To/Cc)."""
        suggested = super()._message_get_suggested_recipients_batch(*args, **kwargs)
        own = {email_normalize(email) for email in self.sudo().account_id.mapped("email")}
        return {
            res_id: [r for r in recipients if email_normalize(r.get("email") or "") not in own]
            for res_id, recipients in suggested.items()
        }

    def _emails(self, order="date, id", limit=None):
        """This conversation's emails (received and sent), oldest first by default (sudo: the caller checked)."""
        return (
            self.env["mail.message"]
            .sudo()
            .search(
                [("model", "=", self._name), ("res_id", "=", self.id), ("message_type", "=", "email")],
                order=order,
                limit=limit,
            )
        )

    def _last_email(self):
        return self._emails(order="date desc, id desc", limit=1)

    def _notify_by_email_get_base_mail_values(self, message, recipients_data, additional_values=None):
        values = super()._notify_by_email_get_base_mail_values(message, recipients_data, additional_values)
        if len(self) == 1 and self.account_id:
            values["mail_server_id"] = self.account_id.sudo().mail_server_id.id
            values["references"] = self._thread_references(message)
        return values

    def _thread_references(self, message):
        """References of an email sent in this conversation: its emails' Message-IDs, then the new one's."""
        self.ensure_one()
        chain = [m.message_id for m in self._emails() if m.message_id]
        if len(chain) > MAX_REFERENCES:
            chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
        return " ".join([*chain, message.sudo().message_id])

    def _notify_by_email_get_headers(self, headers=None):
        headers = super()._notify_by_email_get_headers(headers=headers)
        if len(self) == 1 and self.account_id:
            last = self._last_email()
            if last.message_id:
                headers["In-Reply-To"] = last.message_id
        return headers

    # ------------------------------------------------------------------ leads

    def _create_leads(self, messages):
        """Option « Création d'un enregistrement de piste »: one lead per new conversation, never per reply."""
        leads = (
            self.env["crm.lead"]
            .sudo()
            .with_context(**QUIET_CONTEXT)
            .create(
                [
                    {
                        "name": conversation.subject,
                        "partner_id": conversation.partner_id.id,
                        "email_from": message.from_email or False,
                        "contact_name": message.from_name or False,
                        "description": message.body_text or False,
                    }
                    for conversation, message in zip(self, messages, strict=True)
                ]
            )
        )
        for conversation, lead in zip(self, leads, strict=True):
            conversation.lead_id = lead

    # ------------------------------------------------------------------ native gateway

    @api.private  # the mail gateway's entry point: its custom values would pick the account
    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """Mail routed here by Odoo's own incoming mail server lands in the account that owns it.

        Private (never callable over RPC): only the mail gateway, already trusted, runs it; the sudo
        below only finds the account of the gateway's own server.
        """
        values = dict(custom_values or {})
        server_id = self.env.context.get("default_fetchmail_server_id")
        if server_id and "account_id" not in values:
            # No caller rights to check: @api.private (no RPC), the mail gateway alone calls it, with its own server.
            account = self.env["comunik.mail.account"].sudo().search([("fetchmail_server_id", "=", server_id)], limit=1)
            values["account_id"] = account.id
        values.setdefault("subject", msg_dict.get("subject") or self.env._("(no subject)"))
        values.setdefault("email_from", msg_dict.get("email_from"))
        values.setdefault("date_first", msg_dict.get("date"))
        values.setdefault("date_last", msg_dict.get("date"))
        return super().message_new(msg_dict, custom_values=values)
