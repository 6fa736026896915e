import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..services import connection

#: Account fields stored on the linked ``fetchmail.server`` (IMAP side).
IMAP_FIELDS = {
    "imap_host": "server",
    "imap_port": "port",
    "imap_user": "user",
    "imap_password": "password",
}
#: Account fields stored on the linked ``ir.mail_server`` (SMTP side).
SMTP_FIELDS = {
    "smtp_host": "smtp_host",
    "smtp_port": "smtp_port",
    "smtp_user": "smtp_user",
    "smtp_password": "smtp_pass",
}
#: Our encryption choice -> ir.mail_server's, always verifying certificates as the connection test does.
SMTP_ENCRYPTION = {"ssl": "ssl_strict", "starttls": "starttls_strict", "none": "none"}
GMAIL_HOSTS = ("gmail.com", "googlemail.com", "google.com")

_logger = logging.getLogger(__name__)


class ComunikMailAccount(models.Model):
    """An IMAP mailbox, personal or shared, with its outgoing SMTP server.

    IMAP settings live on a ``fetchmail.server`` and SMTP settings on an
    ``ir.mail_server``, both reached with sudo: users never get rights on those
    admin-only models, so access to an account (and its passwords) is decided
    by this model's own rules alone.
    """

    _name = "comunik.mail.account"
    _description = "Email Account"
    _inherit = ["mail.thread"]
    _order = "email"
    _rec_name = "email"

    active = fields.Boolean(default=True)
    email = fields.Char("Email Address", required=True, tracking=True)
    account_type = fields.Selection([("imap", "IMAP")], default="imap", required=True)
    sync_period = fields.Selection(
        [("today", "Today"), ("week", "1 week ago")],
        "Synchronization Period",
        default="today",
        required=True,
    )
    category = fields.Selection(
        [("shared", "Shared"), ("personal", "Personal")],
        default="personal",
        required=True,
        tracking=True,
    )
    owner_id = fields.Many2one("res.users", default=lambda self: self.env.user, index=True, tracking=True)
    create_lead = fields.Boolean(
        "Create a Lead Record",
        help="Automatically turn incoming emails into CRM leads.",
    )
    department_ids = fields.Many2many("hr.department", string="Departments")
    dispatcher_ids = fields.Many2many(
        "res.users",
        "comunik_mail_account_dispatcher_rel",
        "account_id",
        "user_id",
        string="Dispatchers",
    )

    response_delay = fields.Float(
        "Response Delay (hours)",
        default=24.0,
        help="An email not closed within this delay is overdue (« Hors délai »); counted in the working hours "
        "of the account's department when it has some.",
    )
    mark_read_on_assign = fields.Boolean(
        "Also show in the original mailbox",
        help="When an email is assigned, mark it as read in the shared mailbox on the mail server too.",
    )

    fetchmail_server_id = fields.Many2one(
        "fetchmail.server", "Incoming Server", required=True, ondelete="restrict", readonly=True, copy=False
    )
    mail_server_id = fields.Many2one(
        "ir.mail_server", "Outgoing Server", required=True, ondelete="restrict", readonly=True, copy=False
    )
    imap_host = fields.Char("IMAP Host", related="fetchmail_server_id.server", readonly=False)
    imap_port = fields.Integer("IMAP Port", related="fetchmail_server_id.port", readonly=False)
    imap_encryption = fields.Selection(
        [("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", "None")],
        "IMAP Encryption",
        default="ssl",
        required=True,
    )
    imap_user = fields.Char("IMAP Username", related="fetchmail_server_id.user", readonly=False)
    imap_password = fields.Char("IMAP Password", compute="_compute_passwords", inverse="_inverse_imap_password")
    smtp_host = fields.Char("SMTP Host", related="mail_server_id.smtp_host", readonly=False)
    smtp_port = fields.Integer("SMTP Port", related="mail_server_id.smtp_port", readonly=False)
    smtp_encryption = fields.Selection(
        [("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", "None")],
        "SMTP Encryption",
        default="ssl",
        required=True,
    )
    smtp_same_credentials = fields.Boolean(
        "Use the same username and password as for incoming mail (IMAP)",
        default=True,
    )
    smtp_user = fields.Char("SMTP Username", compute="_compute_smtp_user", inverse="_inverse_smtp_user")
    smtp_password = fields.Char("SMTP Password", compute="_compute_passwords", inverse="_inverse_smtp_password")

    validity_state = fields.Selection(
        [("untested", "Not Tested"), ("valid", "Valid"), ("invalid", "Invalid")],
        default="untested",
        readonly=True,
        copy=False,
    )
    validity_message = fields.Text("Test Result", readonly=True, copy=False)
    validity_date = fields.Datetime("Last Test", readonly=True, copy=False)
    connection_test_count = fields.Integer(
        "Connection Tests", default=0, copy=False, help="Incremented by the Test Connection button."
    )
    is_primary = fields.Boolean("Primary Account", compute="_compute_is_primary", search="_search_is_primary")
    can_edit = fields.Boolean(compute="_compute_can_edit")

    _email_category_uniq = models.Constraint(
        "UNIQUE NULLS NOT DISTINCT (email, category, owner_id)",
        "This email account is already configured.",
    )

    # ------------------------------------------------------------------ compute

    def _is_comunik_admin(self):
        return self.env.user.has_group("comunik_mail.group_comunik_mail_admin")

    def _can_manage(self):
        """Admins manage every account, owners their personal one."""
        self.ensure_one()
        if self.env.su or self._is_comunik_admin():
            return True
        return self.category == "personal" and self.owner_id == self.env.user

    @api.depends("category", "owner_id")
    @api.depends_context("uid")
    def _compute_can_edit(self):
        for account in self:
            account.can_edit = account._can_manage()

    @api.depends("fetchmail_server_id", "mail_server_id")
    @api.depends_context("uid")
    def _compute_passwords(self):
        """Passwords are only ever returned to the owner of a personal box and to admins."""
        for account in self:
            if account._can_manage():
                account.imap_password = account.fetchmail_server_id.sudo().password
                account.smtp_password = account.mail_server_id.sudo().smtp_pass
            else:
                account.imap_password = False
                account.smtp_password = False

    @api.depends("mail_server_id", "smtp_same_credentials", "imap_user")
    def _compute_smtp_user(self):
        for account in self:
            if account.smtp_same_credentials:
                account.smtp_user = account.imap_user
            else:
                account.smtp_user = account.mail_server_id.sudo().smtp_user

    @api.depends_context("uid")
    def _compute_is_primary(self):
        primary = self.env.user.comunik_primary_account_id
        for account in self:
            account.is_primary = account == primary

    def _search_is_primary(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on the primary account."))
        primary_ids = self.env.user.comunik_primary_account_id.ids
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", primary_ids)]

    # ------------------------------------------------------------------ inverse

    def _check_manage(self):
        for account in self:
            if not account._can_manage():
                raise AccessError(self.env._("Only administrators can modify this email account."))

    def _inverse_imap_password(self):
        self._check_manage()
        for account in self:
            account.fetchmail_server_id.sudo().password = account.imap_password
            if account.smtp_same_credentials:
                account.mail_server_id.sudo().smtp_pass = account.imap_password

    def _inverse_smtp_password(self):
        self._check_manage()
        for account in self.filtered(lambda a: not a.smtp_same_credentials):
            account.mail_server_id.sudo().smtp_pass = account.smtp_password

    def _inverse_smtp_user(self):
        self._check_manage()
        for account in self.filtered(lambda a: not a.smtp_same_credentials):
            account.mail_server_id.sudo().smtp_user = account.smtp_user

    # ------------------------------------------------------------------ CRUD

    @api.model
    def _server_values(self, vals):
        """Values for the fetchmail.server / ir.mail_server backing a new account."""
        email = vals.get("email", "")
        imap = {
            "name": email,
            "server_type": "imap",
            "server": vals.get("imap_host"),
            "port": vals.get("imap_port") or 993,
            "is_ssl": vals.get("imap_encryption", "ssl") == "ssl",
            "user": vals.get("imap_user") or email,
            "password": vals.get("imap_password"),
        }
        same = vals.get("smtp_same_credentials", True)
        smtp = {
            "name": email,
            "smtp_host": vals.get("smtp_host"),
            "smtp_port": vals.get("smtp_port") or 465,
            "smtp_encryption": SMTP_ENCRYPTION[vals.get("smtp_encryption") or "ssl"],
            "smtp_authentication": "login",
            "smtp_user": imap["user"] if same else vals.get("smtp_user"),
            "smtp_pass": imap["password"] if same else vals.get("smtp_password"),
            "from_filter": email,
        }
        return imap, smtp

    def _check_user_values(self, vals):
        """Non-admins may only manage their own personal boxes."""
        if self.env.su or self._is_comunik_admin():
            return
        if vals.get("category", "personal") != "personal" or vals.get("owner_id", self.env.uid) != self.env.uid:
            raise AccessError(self.env._("Only administrators can create or modify a shared account."))
        if vals.get("department_ids") or vals.get("dispatcher_ids"):
            raise AccessError(self.env._("Only administrators can assign departments or dispatchers."))

    @api.model_create_multi
    def create(self, vals_list):
        server_fields = set(IMAP_FIELDS) | set(SMTP_FIELDS)
        clean_list = []
        for vals in vals_list:
            self._check_user_values(vals)
            vals = dict(vals)
            if vals.get("email"):
                vals["email"] = vals["email"].strip()
            imap, smtp = self._server_values(vals)
            vals["fetchmail_server_id"] = self.env["fetchmail.server"].sudo().create(imap).id
            vals["mail_server_id"] = self.env["ir.mail_server"].sudo().create(smtp).id
            clean_list.append({k: v for k, v in vals.items() if k not in server_fields})
        return super().create(clean_list)

    def write(self, vals):
        if not self.env.su and not self._is_comunik_admin():
            self._check_manage()
            self._check_user_values({"category": self[:1].category, "owner_id": self[:1].owner_id.id, **vals})
        res = super().write(vals)
        if {"email", "imap_encryption", "smtp_encryption", "smtp_same_credentials", "imap_user"} & set(vals):
            self._sync_servers()
        return res

    def _sync_servers(self):
        """Keep the backing servers consistent with the account-level options."""
        for account in self:
            account.fetchmail_server_id.sudo().write(
                {"name": account.email, "is_ssl": account.imap_encryption == "ssl"}
            )
            smtp = {
                "name": account.email,
                "from_filter": account.email,
                "smtp_encryption": SMTP_ENCRYPTION[account.smtp_encryption],
            }
            if account.smtp_same_credentials:
                smtp.update(
                    smtp_user=account.fetchmail_server_id.sudo().user,
                    smtp_pass=account.fetchmail_server_id.sudo().password,
                )
            account.mail_server_id.sudo().write(smtp)

    def unlink(self):
        self.check_access("unlink")
        # Through the ORM, so that each conversation takes its emails and attachments with it.
        self.env["comunik.mail.conversation"].sudo().with_context(active_test=False).search(
            [("account_id", "in", self.ids)]
        ).unlink()
        fetchmail_servers = self.fetchmail_server_id.sudo()
        mail_servers = self.mail_server_id.sudo()
        res = super().unlink()
        fetchmail_servers.unlink()
        mail_servers.unlink()
        return res

    # ------------------------------------------------------------------ onchange

    @api.onchange("email")
    def _onchange_email(self):
        if self.email and not self.imap_user:
            self.imap_user = self.email.strip()

    @api.onchange("imap_encryption")
    def _onchange_imap_encryption(self):
        self.imap_port = {"ssl": 993, "starttls": 143, "none": 143}[self.imap_encryption or "ssl"]

    @api.onchange("smtp_encryption")
    def _onchange_smtp_encryption(self):
        self.smtp_port = {"ssl": 465, "starttls": 587, "none": 25}[self.smtp_encryption or "ssl"]

    @api.onchange("connection_test_count")
    def _onchange_connection_test_count(self):
        """Test the form's current values, saved or not (button « Tester la connexion »)."""
        if not self.connection_test_count:
            return None
        self.update(self._run_connection_test())
        if self.validity_state == "invalid":
            return {"warning": {"title": self.env._("Connection test failed"), "message": self.validity_message}}
        return None

    @api.constrains("category", "owner_id")
    def _check_owner(self):
        for account in self:
            if account.category == "personal" and not account.owner_id:
                raise ValidationError(self.env._("A personal account must have an owner."))

    # ------------------------------------------------------------------ connection test

    def _connection_timeout(self):
        """Seconds allowed per network operation (system parameter, at most 15 s)."""
        value = self.env["ir.config_parameter"].sudo().get_param("comunik_mail.connection_timeout")
        try:
            return min(max(float(value), 1.0), connection.DEFAULT_TIMEOUT) if value else connection.DEFAULT_TIMEOUT
        except ValueError:
            return connection.DEFAULT_TIMEOUT

    def _imap_settings(self):
        return connection.ServerSettings(
            host=(self.imap_host or "").strip(),
            port=self.imap_port or 993,
            encryption=self.imap_encryption or "ssl",
            username=self.imap_user or self.email or "",
            password=self.imap_password or "",
            timeout=self._connection_timeout(),
        )

    def _smtp_settings(self):
        same = self.smtp_same_credentials
        return connection.ServerSettings(
            host=(self.smtp_host or "").strip(),
            port=self.smtp_port or 465,
            encryption=self.smtp_encryption or "ssl",
            username=(self.imap_user or self.email or "") if same else (self.smtp_user or ""),
            password=(self.imap_password or "") if same else (self.smtp_password or ""),
            timeout=self._connection_timeout(),
        )

    def _failure_message(self, protocol, settings, result):
        """French, precise reason for a failed check."""
        where = f"{settings.host}:{settings.port}"
        messages = {
            connection.AUTH: self.env._(
                "%(protocol)s: authentication refused by %(where)s. Check the username and " "password."
            ),
            connection.DNS: self.env._("%(protocol)s: server “%(host)s” not found (unknown host name)."),
            connection.REFUSED: self.env._("%(protocol)s: connection refused by %(where)s. Check the port."),
            connection.TLS: self.env._(
                "%(protocol)s: SSL/TLS negotiation with %(where)s failed. Check the encryption " "and the port."
            ),
            connection.TIMEOUT: self.env._("%(protocol)s: server %(where)s is not answering (timed out)."),
            connection.PROTOCOL: self.env._("%(protocol)s: unexpected answer from %(where)s."),
        }
        message = messages[result.code] % {"protocol": protocol, "where": where, "host": settings.host}
        if result.code == connection.AUTH and settings.host.lower().endswith(GMAIL_HOSTS):
            message += "\n" + self.env._(
                "For Gmail, use an application password: Manage your Google Account → search for "
                "“App passwords” → create one and paste it into the Password field."
            )
        return message

    def _run_connection_test(self):
        """Check IMAP then SMTP; return the validity values to store."""
        self.ensure_one()
        problems = []
        for protocol, settings, check in (
            ("IMAP", self._imap_settings(), connection.check_imap),
            ("SMTP", self._smtp_settings(), connection.check_smtp),
        ):
            if not settings.host:
                problems.append(self.env._("%s: fill in the host name.", protocol))
                continue
            result = check(settings)
            if not result.ok:
                _logger.info("%s check of %s failed: %s", protocol, self.email, result.detail)
                problems.append(self._failure_message(protocol, settings, result))
        return {
            "validity_state": "invalid" if problems else "valid",
            "validity_message": "\n".join(problems) or self.env._("Connection successful: IMAP and SMTP both work."),
            "validity_date": fields.Datetime.now(),
        }

    def _member_users(self):
        """Users who may be assigned these boxes' emails: members of their departments."""
        return self.sudo().department_ids.member_ids.user_id

    # ------------------------------------------------------------------ actions

    def action_test_connection(self):
        """Test saved accounts (list button); reports the outcome as a notification."""
        for account in self:
            account.sudo().write(account.sudo()._run_connection_test())
        failed = self.filtered(lambda a: a.validity_state == "invalid")
        message = "\n".join(failed.mapped("validity_message")) or self[:1].validity_message
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Connection test failed") if failed else self.env._("Connection test"),
                "message": message,
                "type": "danger" if failed else "success",
                "sticky": bool(failed),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_set_primary(self):
        """Make this box the current user's primary (default) one; unsets the previous."""
        self.ensure_one()
        self.check_access("read")
        self.env.user.sudo().comunik_primary_account_id = self
        self.invalidate_model(["is_primary"])
        return True
