from odoo import models
from odoo.tools import html2plaintext

from ..services import connection

#: Failures about the recipient's address: Odoo drops the mail, nothing to retry on our side.
RECIPIENT_FAILURES = ("mail_email_invalid", "mail_email_missing")


class MailMail(models.Model):
    """Replies of a conversation that could not be sent: a French reason instead of the raw
    SMTP exception, on the mail (kept in exception, so it can be sent again) and in the thread."""

    _inherit = "mail.mail"

    def _postprocess_sent_message(self, success_pids, success_emails, failure_reason=False, failure_type=None):
        if not failure_type or failure_type in RECIPIENT_FAILURES:
            return super()._postprocess_sent_message(success_pids, success_emails, failure_reason, failure_type)
        ours = self.filtered(lambda mail: mail.model == "comunik.mail.conversation" and mail.res_id)
        for mail in ours:
            reason = mail._comunik_failure_reason(failure_reason or mail.failure_reason)
            mail.sudo().failure_reason = reason
            super(MailMail, mail)._postprocess_sent_message(success_pids, success_emails, reason, failure_type)
        return super(MailMail, self - ours)._postprocess_sent_message(
            success_pids, success_emails, failure_reason, failure_type
        )

    def _filter_mail_mail_servers(self, mail_servers):
        """A mailbox's private server (see ir.mail_server) serves the replies of that mailbox only:
        Odoo's automatic choice never picks it, and no other mail may force it."""
        own = self._comunik_own_server()
        return (
            super()
            ._filter_mail_mail_servers(mail_servers)
            .filtered(lambda server: not server.comunik_private or server == own)
        )

    def _comunik_own_server(self):
        if len(self) != 1 or self.model != "comunik.mail.conversation" or not self.res_id:
            return self.env["ir.mail_server"]
        conversation = self.env["comunik.mail.conversation"].sudo().browse(self.res_id).exists()
        return conversation.account_id.mail_server_id

    def _comunik_failure_reason(self, raw_reason):
        """« L'envoi a échoué » with the precise cause, in the author's language, also logged in the thread."""
        self.ensure_one()
        conversation = self.env["comunik.mail.conversation"].sudo().browse(self.res_id).exists()
        account = conversation.account_id
        lang = self.mail_message_id.author_id.lang or conversation.user_id.lang or self.env.lang
        conversation = conversation.with_context(lang=lang)
        if not account:
            return raw_reason
        settings = account._smtp_settings()
        code = connection.classify_failure_text(raw_reason)
        cause = account.with_context(lang=lang)._failure_message("SMTP", settings, connection.CheckResult(code))
        reason = conversation.env._(
            "Sending from %(email)s failed. %(cause)s The message is kept: fix the account if needed, then "
            "click « Resend » on the conversation.",
            email=account.email,
            cause=cause,
        )
        last = conversation.message_ids[:1]
        if reason not in html2plaintext(last.body or ""):  # retries of the same failure are not logged again and again
            conversation.with_context(mail_notrack=True)._message_log(body=reason)
        return reason
