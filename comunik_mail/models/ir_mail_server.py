import logging
from email.utils import getaddresses

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import email_normalize

from odoo.addons.base.models.ir_mail_server import extract_rfc2822_addresses

from ..services import imap_folders

_logger = logging.getLogger(__name__)


class IrMailServer(models.Model):
    """Outgoing servers of mailboxes: only their own replies may use them, and what they send is copied into
    the box's Sent folder (so Outlook or a phone on the same box shows the team's answers)."""

    _inherit = "ir.mail_server"

    comunik_private = fields.Boolean(
        "Mailbox Server Only",
        help="Server of an Email app mailbox configured by someone who is not a Settings administrator: "
        "Odoo never chooses it for other mail; only the mailbox's own replies leave through it.",
    )

    def _find_mail_server_allowed_domain(self):
        return super()._find_mail_server_allowed_domain() & Domain("comunik_private", "=", False)

    @api.private  # takes an email.message object: Odoo's own code calls it, never a client over RPC
    def send_email(self, message, mail_server_id=None, smtp_server=None, *args, **kwargs):
        message_id = super().send_email(message, mail_server_id, smtp_server, *args, **kwargs)
        if mail_server_id and not smtp_server:
            self._comunik_copy_to_sent(message, mail_server_id)
        return message_id

    def _comunik_copy_to_sent(self, message, mail_server_id):
        """APPEND what a box's server just sent to that box's Sent folder, flagged read, once per Message-ID.

        Odoo sends one copy per notified partner with the same Message-ID: only the first is kept. Never
        raises: the email is sent; a copy that fails is kept (``comunik.mail.sent.copy``) and appended by the
        box's next sync.
        """
        account = self.env["comunik.mail.account"].sudo().search([("mail_server_id", "=", mail_server_id)], limit=1)
        if not account or not account.sent_copy:
            return
        senders = {email_normalize(address) for _name, address in getaddresses([message.get("From", "")])}
        if email_normalize(account.email) not in senders:
            return
        appended = self.env.cr.cache.setdefault("comunik_mail.sent_copies", set())
        key = (account.id, message.get("Message-Id"))
        if key in appended:
            return
        appended.add(key)
        sent = account._sent_folder()
        try:
            settings = account._with_oauth_token(account._imap_settings(), "IMAP")
            folder, _uid = imap_folders.append_sent(settings, message.as_bytes(), folder=sent.name or None)
        except Exception as exc:  # noqa: BLE001 - the email left; only its copy is missing
            _logger.warning("Could not copy a sent email to the Sent folder of %s: %s", account.email, exc)
            if isinstance(exc, LookupError):
                error = self.env._("the mailbox has no Sent folder.")
            else:
                error = account._sync_error_message(exc)
            if not self.env["comunik.mail.sent.copy"].sudo().search_count([("account_id", "=", account.id)]):
                # Logged once per outage: the copies wait and the next sync of the box appends them.
                account.with_context(mail_notrack=True)._message_log(
                    body=self.env._(
                        "An email sent from Odoo could not be copied into the Sent folder of %(email)s: %(error)s "
                        "The copy is kept and added by the synchronization once the server accepts it.",
                        email=account.email,
                        error=error,
                    )
                )
            self.env["comunik.mail.sent.copy"]._keep(account, message, error)
            return
        if not sent:
            account._sync_folder(folder).sudo().write({"is_sent": True})

    @api.model
    def _prepare_smtp_to_list(self, message, smtp_session):
        """Bcc recipients (the ``Bcc`` header of a mail.mail written from a box) join the SMTP envelope.

        Odoo's mail queue restricts the envelope to the mail's validated To and Cc (``send_validated_to``),
        which would drop them; the Bcc header itself is removed before sending (``_prepare_email_message``).
        """
        to_list = super()._prepare_smtp_to_list(message, smtp_session)
        if self.env.context.get("send_validated_to") and message["Bcc"]:
            skip = self.env.context.get("send_smtp_skip_to") or []
            for address in extract_rfc2822_addresses(message["Bcc"]):
                if address not in to_list and email_normalize(address, strict=False) not in skip:
                    to_list.append(address)
        return to_list
