import base64
import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

#: Copies tried in one sync before the rest waits for the next one (a Sent folder refusing them all stops early).
MAX_PER_SYNC = 50


class ComunikMailSentCopy(models.Model):
    """An email sent from Odoo whose copy into the box's Sent folder failed (server unreachable, refused...).

    The email itself left; only its copy is missing. The next sync of the box appends it over the session it
    has just opened, before reading Sent, so the copy is never taken for an answer written elsewhere.
    """

    _name = "comunik.mail.sent.copy"
    _description = "Pending Sent Folder Copy"
    _order = "sent_date, id"

    account_id = fields.Many2one("comunik.mail.account", required=True, index=True, ondelete="cascade", readonly=True)
    message_id = fields.Char("Message-ID", readonly=True)
    raw = fields.Binary("Email", attachment=True, readonly=True)
    sent_date = fields.Datetime("Sent On", readonly=True)
    error = fields.Text(readonly=True)
    attempt_count = fields.Integer("Attempts", readonly=True)

    def _has_field_access(self, field, operation):
        if operation == "write" and not self.env.su:
            return False
        return super()._has_field_access(field, operation)

    @api.model
    def _keep(self, account, message, error):
        """Remember a copy that failed, once per box and Message-ID."""
        message_id = message.get("Message-Id")
        existing = self.sudo().search([("account_id", "=", account.id), ("message_id", "=", message_id)], limit=1)
        if existing:
            existing.write({"error": error, "attempt_count": existing.attempt_count + 1})
            return existing
        return self.sudo().create(
            {
                "account_id": account.id,
                "message_id": message_id,
                "raw": base64.b64encode(message.as_bytes()),
                "sent_date": fields.Datetime.now(),
                "error": error,
                "attempt_count": 1,
            }
        )

    @api.model
    def _append_pending(self, account, client, folder_name):
        """APPEND the box's pending copies over ``client`` (the sync's session); stop at the first refusal."""
        pending = self.sudo().search([("account_id", "=", account.id)], limit=MAX_PER_SYNC)
        done = 0
        for copy in pending:
            try:
                client.append(
                    folder_name, base64.b64decode(copy.raw or b""), flags=[b"\\Seen"], msg_time=copy.sent_date
                )
            except Exception as exc:  # noqa: BLE001 - kept for the next sync; the box's sync goes on
                _logger.info("Sent copy %s of %s still refused: %s", copy.message_id, account.email, exc)
                copy.write({"error": " ".join(str(exc).split())[:500], "attempt_count": copy.attempt_count + 1})
                break
            copy.unlink()
            done += 1
        return done
