from odoo import models

IMAP_SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All"
SMTP_SCOPE = "https://outlook.office.com/SMTP.Send"


class FetchmailServer(models.Model):
    """The incoming server of a box: where Odoo's Google / Microsoft consent flow stores the box's grant."""

    _inherit = "fetchmail.server"

    @property
    def _OUTLOOK_SCOPE(self):  # noqa: N802 - microsoft_outlook's attribute, read per record
        """A box's one Microsoft sign-in covers receiving and sending: its outgoing server reuses the grant
        (other incoming servers keep microsoft_outlook's IMAP-only scope)."""
        if self._comunik_accounts():
            return f"{IMAP_SCOPE} {SMTP_SCOPE}"
        return IMAP_SCOPE

    def _comunik_accounts(self):
        """The comunik boxes these servers back (for the OAuth callback, which knows only the server)."""
        ids = [record_id for record_id in self.ids if isinstance(record_id, int)]
        if not ids:
            return self.env["comunik.mail.account"]
        return (
            self.env["comunik.mail.account"]
            .sudo()
            .with_context(active_test=False)
            .search([("fetchmail_server_id", "in", ids)])
        )
