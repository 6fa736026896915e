from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

#: Connection tests one user may run per minute (each one makes the Odoo server connect somewhere).
TESTS_PER_MINUTE = 10


class ComunikMailConnectionLog(models.Model):
    """One connection attempt made by « Tester la connexion »: who reached which host, and the outcome.

    It is the audit trail admins read when a host was probed, and the counter of the per-user rate limit.
    """

    _name = "comunik.mail.connection.log"
    _description = "Connection Test Log"
    _order = "id desc"
    _log_access = True

    user_id = fields.Many2one("res.users", required=True, index=True, readonly=True, ondelete="cascade")
    account_id = fields.Many2one("comunik.mail.account", "Email Account", readonly=True, ondelete="cascade")
    email = fields.Char("Email Address", readonly=True)
    protocol = fields.Char(readonly=True)
    host = fields.Char(readonly=True)
    port = fields.Integer(readonly=True)
    result = fields.Char(readonly=True)

    @api.model
    def _check_rate(self):
        """Refuse a user's test beyond TESTS_PER_MINUTE in the last minute (admins included: it is cheap
        to wait a minute, and a loop in a script should not hammer a mail server)."""
        since = fields.Datetime.now() - timedelta(minutes=1)
        # Two protocols per test: count tests, not lines.
        count = self.sudo().search_count([("user_id", "=", self.env.uid), ("create_date", ">=", since)])
        if count >= TESTS_PER_MINUTE * 2:
            raise UserError(
                self.env._(
                    "Too many connection tests: wait a minute before testing again (at most %s a minute).",
                    TESTS_PER_MINUTE,
                )
            )

    @api.model
    def _log(self, account, protocol, settings, result):
        origin = account._origin if account._origin else account
        self.sudo().create(
            {
                "user_id": self.env.uid,
                "account_id": origin.id if isinstance(origin.id, int) else False,
                "email": account.email,
                "protocol": protocol,
                "host": settings.host,
                "port": settings.port,
                "result": result,
            }
        )

    @api.autovacuum
    def _gc_old_logs(self):
        """Keep 90 days of history."""
        self.sudo().search([("create_date", "<", fields.Datetime.now() - timedelta(days=90))]).unlink()
