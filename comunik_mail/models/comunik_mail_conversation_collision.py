from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime, html2plaintext

from ..services import collision

ACTIVITY = "comunik.mail.conversation.activity"
#: The bus notification of « who is viewing / replying », sent to each user who may see the box.
ACTIVITY_NOTIFICATION = "comunik_mail.activity"


class ComunikMailConversation(models.Model):
    """Collision detection on conversations: who is viewing or replying (live, through the bus), and the
    send guard (a reply written while a newer email or a colleague's reply arrived asks for confirmation)."""

    # One file per feature of the conversation (snooze, merge, collision), as Odoo splits mail.thread.
    _inherit = "comunik.mail.conversation"  # pylint: disable=consider-merging-classes-inherited

    live_activity = fields.Json(
        "Viewers",
        compute="_compute_live_activity",
        help="The other users viewing or replying to this conversation right now.",
    )

    @api.depends_context("uid", "comunik_now")
    def _compute_live_activity(self):
        # sudo: activities of conversations the caller reads (the compute runs on records they may read).
        fresh = self.env[ACTIVITY].sudo().with_context(comunik_now=self._now())._fresh_by_conversation(self.ids)
        for conversation in self:
            conversation.live_activity = [
                entry for entry in fresh.get(conversation.id, []) if entry["user_id"] != self.env.uid
            ]

    # ------------------------------------------------------------------ live activity

    def comunik_set_activity(self, activity):
        """Announce what the caller does on these conversations: ``viewing`` (the form is open), ``replying``
        (a reply is being written) or ``none`` (left). Repeated every 30 s by the web client; without it the
        announcement expires after 60 s. Those who may see the box are told through the bus."""
        if activity not in (*collision.ACTIVITIES, "none"):
            raise UserError(self.env._("Unknown activity: %s.", activity))
        self.check_access("read")  # the caller's rights on every conversation, before the sudo
        conversations = self.exists()
        activities = self.env[ACTIVITY].sudo().with_context(comunik_now=self._now())
        activities._set(conversations, self.env.user, activity)
        conversations._notify_activity()
        return True

    def _activity_audience(self):
        """Users who may see this conversation's box: its owner or its members and dispatchers, the admins."""
        self.ensure_one()
        account = self.sudo().account_id
        users = self.env.ref("comunik_mail.group_comunik_mail_admin").sudo().all_user_ids
        if account.category == "personal":
            users |= account.owner_id
        else:
            users |= account.dispatcher_ids | account._member_users()
        return users.filtered(lambda user: user.active and not user.share)

    def _notify_activity(self):
        """Send the current viewers of each conversation to the users who may see it (their own bus channel:
        nobody else can listen to it), but the one who just changed theirs."""
        fresh = self.env[ACTIVITY].sudo().with_context(comunik_now=self._now())._fresh_by_conversation(self.ids)
        for conversation in self:
            payload = {"conversation_id": conversation.id, "activities": fresh.get(conversation.id, [])}
            (conversation._activity_audience() - self.env.user)._bus_send(ACTIVITY_NOTIFICATION, payload)

    # ------------------------------------------------------------------ send guard

    def _newer_messages(self, seen_message_id, confirmed_up_to=0):
        """What arrived in the conversation after the message ``seen_message_id`` (the newest the composer knew)
        and was not confirmed: customer emails (the sync's, the Sent folder's included) and replies of others.
        Notes, tracking and the caller's own messages do not count. No marker (0): nothing (API clients)."""
        self.ensure_one()
        floor = collision.guard_floor(seen_message_id, confirmed_up_to)
        if floor is None:
            return self.env["mail.message"]
        candidates = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("id", ">", floor),
                    ("message_type", "in", ("email", "comment")),
                ],
                order="id",
            )
        )
        me = self.env.user.partner_id
        return candidates.filtered(
            lambda message: message.message_type == "email"
            or (message.author_id != me and message.subtype_id and not message.subtype_id.internal)
        )

    def _newer_message_values(self, messages):
        """Sender, date and excerpt of each new message, as the composers show them."""
        return [
            {
                "id": message.id,
                "author": message.author_id.name or message.email_from or "",
                "date": format_datetime(self.env, message.date, tz=self.env.user.tz) if message.date else "",
                "excerpt": collision.excerpt(html2plaintext(message.body or "")),
                "is_email": message.message_type == "email",
            }
            for message in messages
        ]

    def _newer_messages_html(self, messages):
        """The list shown in the composers' confirmation step."""
        items = Markup("").join(
            Markup("<li><strong>%s</strong> <span class='text-muted'>(%s)</span><br/>%s</li>")
            % (
                values["author"],
                values["date"],
                values["excerpt"],
            )
            for values in self._newer_message_values(messages)
        )
        return Markup("<ul class='mb-0'>%s</ul>") % items

    def _newer_messages_error(self, messages):
        lines = "\n".join(
            f"- {values['author']} ({values['date']}) : {values['excerpt']}"
            for values in self._newer_message_values(messages)
        )
        return self.env._(
            "New messages arrived in this conversation since you started your reply:\n%(messages)s\n"
            "Read them, then send again to confirm.",
            messages=lines,
        )

    def comunik_newer_messages(self, seen_message_id):
        """The messages that arrived since ``seen_message_id`` (the newest the chatter composer knew when the
        user started writing): [{id, author, date, excerpt, is_email}], for the confirmation before sending."""
        self.ensure_one()
        self.check_access("read")
        return self._newer_message_values(self._newer_messages(int(seen_message_id or 0)))

    def message_post(self, **kwargs):
        """The chatter composer sends its marker in the context (``comunik_seen_message_id``) and, after the
        user confirmed, the newest message they were shown (``comunik_confirm_up_to``)."""
        seen = self.env.context.get("comunik_seen_message_id")
        if seen and len(self) == 1 and self.account_id and self._is_external_reply(kwargs):
            self.check_access("read")
            newer = self._newer_messages(int(seen), int(self.env.context.get("comunik_confirm_up_to") or 0))
            if newer:
                raise UserError(self._newer_messages_error(newer))
        return super().message_post(**kwargs)
