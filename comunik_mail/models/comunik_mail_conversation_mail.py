from email.utils import formataddr

from odoo import api, fields, models

#: Message-IDs kept in References: the thread's start and its latest emails are what clients use.
MAX_REFERENCES = 20


class ComunikMailConversation(models.Model):
    """Replies and new mail from a conversation leave from the account's address and SMTP server,
    threaded for the customer (In-Reply-To / References) so that the answer comes back here."""

    _inherit = "comunik.mail.conversation"

    first_response_date = fields.Datetime("First Response On", readonly=True)
    first_response_hours = fields.Float(
        "First Response Time (hours)", compute="_compute_first_response_hours", store=True, aggregator="avg"
    )

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
            account = self.account_id.sudo()
            kwargs.setdefault("email_from", formataddr((self.env.user.name, account.email)))
            kwargs.setdefault("reply_to", account.email)
        message = super().message_post(**kwargs)
        if external and not self.first_response_date:
            self.sudo().first_response_date = fields.Datetime.now()
        return message

    def _last_email(self):
        return (
            self.env["mail.message"]
            .sudo()
            .search(
                [("model", "=", self._name), ("res_id", "=", self.id), ("message_type", "=", "email")],
                order="date desc, id desc",
                limit=1,
            )
        )

    def _notify_by_email_get_base_mail_values(self, message, recipients_data, additional_values=None):
        values = super()._notify_by_email_get_base_mail_values(message, recipients_data, additional_values)
        if len(self) == 1 and self.account_id:
            values["mail_server_id"] = self.account_id.sudo().mail_server_id.id
            emails = (
                self.env["mail.message"]
                .sudo()
                .search(
                    [("model", "=", self._name), ("res_id", "=", self.id), ("message_type", "=", "email")],
                    order="date, id",
                )
            )
            chain = [m.message_id for m in emails if m.message_id]
            if len(chain) > MAX_REFERENCES:
                chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
            values["references"] = " ".join([*chain, message.sudo().message_id])
        return values

    def _notify_by_email_get_headers(self, headers=None):
        headers = super()._notify_by_email_get_headers(headers=headers)
        if len(self) == 1 and self.account_id:
            last = self._last_email()
            if last.message_id:
                headers["In-Reply-To"] = last.message_id
        return headers
