import dataclasses
import imaplib
import logging
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg2
import requests
from markupsafe import Markup
from psycopg2.errors import LockNotAvailable

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, config, email_normalize, is_html_empty

from ..services import connection, host_policy, imap_folders, imap_sync, limits, providers

#: Our encryption choice -> ir.mail_server's, always verifying certificates as the connection test does.
SMTP_ENCRYPTION = {"ssl": "ssl_strict", "starttls": "starttls_strict", "none": "none"}
IMAP_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
SMTP_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
GMAIL_HOSTS = ("gmail.com", "googlemail.com", "google.com")
#: System parameter: private hosts or networks that non-admins may also use (see services/host_policy.py).
HOST_POLICY_PARAM = "comunik_mail.allowed_private_hosts"
#: Connection settings, stored on the backing servers and shown to the account's managers only.
CONNECTION_FIELDS = (
    "imap_host",
    "imap_port",
    "imap_user",
    "imap_password",
    "smtp_host",
    "smtp_port",
    "smtp_user",
    "smtp_password",
)
#: Account fields whose change must be pushed to the backing servers.
SERVER_OPTION_FIELDS = {
    "email",
    "category",
    "imap_encryption",
    "smtp_encryption",
    "smtp_same_credentials",
    "auth_method",
    "mail_provider",
}
#: A change of these gives a box whose login was refused a fresh try at once.
CREDENTIAL_FIELDS = {
    "imap_user",
    "imap_password",
    "smtp_user",
    "smtp_password",
    "imap_host",
    "smtp_host",
    "auth_method",
    "mail_provider",
}
#: Providers whose SMTP servers keep a copy of what they send in the Sent folder (Odoo must not add another).
SERVER_KEEPS_SENT = ("gmail", "microsoft")
#: Provider of the box -> the OAuth kind of Odoo's google_gmail / microsoft_outlook
#: (their ``fetchmail.server.server_type`` and ``ir.mail_server.smtp_authentication`` value).
OAUTH_KINDS = {"gmail": "gmail", "microsoft": "outlook"}
#: Token fields of each kind, on both fetchmail.server and ir.mail_server (groups base.group_system).
OAUTH_TOKEN_FIELDS = {
    "gmail": ("google_gmail_refresh_token", "google_gmail_access_token", "google_gmail_access_token_expiration"),
    "outlook": (
        "microsoft_outlook_refresh_token",
        "microsoft_outlook_access_token",
        "microsoft_outlook_access_token_expiration",
    ),
}
#: System parameters of Odoo's OAuth applications (Settings → General Settings → Discuss).
OAUTH_PROVIDER_NAMES = {"gmail": "Google", "outlook": "Microsoft"}
OAUTH_CLIENT_PARAMS = {
    "gmail": ("google_gmail_client_id", "google_gmail_client_secret"),
    "outlook": ("microsoft_outlook_client_id", "microsoft_outlook_client_secret"),
}
#: Written by the addon alone (sudo); any other writer gets an AccessError.
SUPERUSER_ONLY_FIELDS = {
    "fetchmail_server_id",
    "mail_server_id",
    "sync_enabled",
    "sync_state",
    "sync_date",
    "sync_error_message",
    "sync_error_date",
    "sync_error_count",
    "sync_retry_date",
    "sync_auth_failure_count",
    "sync_attempt_date",
    "folder_ids",
    "folders_listed_date",
    "conversation_ids",
    "quarantine_ids",
    "connection_log_ids",
    "assign_last_user_id",
    "assign_pass_count",
}
#: A change of these may let the emails waiting in the box be assigned at once.
ASSIGN_FIELDS = {"assign_mode", "assign_online_only", "department_ids", "active"}

_logger = logging.getLogger(__name__)


class OAuthSignInError(UserError):
    """The box's Google / Microsoft sign-in gave no access token; ``refused`` when signing in again is the fix."""

    def __init__(self, message, refused=True):
        super().__init__(message)
        self.refused = refused


#: Advisory-lock namespace: one sync per account at a time, across processes.
LOCK_NAMESPACE = zlib.crc32(b"comunik_mail.sync") & 0x7FFFFFFF
#: Consecutive failures after which the owner (or the admins) are notified.
FAILURES_BEFORE_NOTICE = 3
#: Refused logins: automatic sync waits 5 min, 10, 20... at most a day before trying again.
LOGIN_BACKOFF_FIRST = timedelta(minutes=5)
LOGIN_BACKOFF_MAX = timedelta(days=1)
#: Seconds a button/API sync may run before leaving the rest to the cron.
INTERACTIVE_BUDGET = 60.0
#: Seconds kept free below Odoo's cron time limit (``limit_time_real_cron``) for the last batch and the commit.
CRON_MARGIN = 30.0
#: The scheduled sync jobs: Odoo runs one job on one cron thread at a time, so parallel syncs need several jobs
#: (each claims different boxes). Deactivate some in Settings → Technical → Scheduled Actions to use fewer threads.
SYNC_JOBS = tuple(f"comunik_mail.ir_cron_comunik_mail_sync{suffix}" for suffix in ("", "_2", "_3", "_4"))
#: The next due box of a pass, stamped and returned; rows other workers are claiming are skipped, not waited for.
CLAIM_QUERY = """
UPDATE comunik_mail_account SET sync_attempt_date = clock_timestamp() AT TIME ZONE 'UTC'
 WHERE id = (
    SELECT id FROM comunik_mail_account
     WHERE sync_enabled AND active
       AND (sync_retry_date IS NULL OR sync_retry_date <= clock_timestamp() AT TIME ZONE 'UTC')
       AND (sync_attempt_date IS NULL
            OR sync_attempt_date < LEAST(%s, (clock_timestamp() AT TIME ZONE 'UTC') - make_interval(secs => %s)))
       AND id != ALL(%s)
     ORDER BY sync_attempt_date ASC NULLS FIRST, id
     LIMIT 1
       FOR UPDATE SKIP LOCKED)
RETURNING id
"""
#: Claims retried after a serialization failure (two workers reaching the same row at the same instant).
CLAIM_RETRIES = 20
#: A box polled by any job is not polled again for this long (system parameter, seconds).
SYNC_INTERVAL_PARAM = "comunik_mail.sync_interval_seconds"
DEFAULT_SYNC_INTERVAL = 30.0
#: Byte budget of one FETCH round trip (system parameter ``comunik_mail.fetch_bytes``).
FETCH_BYTES_PARAM = "comunik_mail.fetch_bytes"
#: Boxes one sync job syncs at the same time, each in a thread and a database connection of its own: a box's
#: time is mostly network round trips (TLS, login, select, fetch), which threads overlap (system parameter).
SYNC_THREADS_PARAM = "comunik_mail.sync_threads"
DEFAULT_SYNC_THREADS = 4
MAX_SYNC_THREADS = 32


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
    # Automatic assignment (shared boxes; see comunik.mail.assignment and services/assignment.py).
    assign_mode = fields.Selection(
        [("manual", "Manual"), ("round_robin", "Round Robin"), ("balanced", "Balanced")],
        "Assignment Mode",
        default="manual",
        required=True,
        tracking=True,
        help="Manual: the dispatchers assign every email. Round robin: each new email goes to the next member "
        "in turn. Balanced: to the member with the fewest open emails. Automatic modes only choose members "
        "within their working hours, not out of office nor on leave, and below their capacity; a customer's new "
        "email goes to the member who last handled them when possible.",
    )
    assign_online_only = fields.Boolean(
        "Only Connected Members",
        help="Automatic assignment also skips the members who are not connected to Odoo.",
    )
    assign_member_ids = fields.One2many(
        "comunik.mail.account.member",
        "account_id",
        "Member Capacities",
        help="Maximum open emails of each member in this mailbox; members not listed are unlimited.",
    )
    # Set by the assignment passes only: the round robin's last member, and a counter every pass bumps
    # (a concurrent pass that read older data fails on it instead of exceeding a capacity).
    assign_last_user_id = fields.Many2one("res.users", "Last Automatic Assignee", readonly=True, copy=False)
    assign_pass_count = fields.Integer("Assignment Passes", readonly=True, copy=False)

    # Set only by the addon itself (see _has_field_access): pointing an account at another box's servers
    # would hand out that box's passwords.
    fetchmail_server_id = fields.Many2one(
        "fetchmail.server", "Incoming Server", ondelete="restrict", readonly=True, copy=False
    )
    mail_server_id = fields.Many2one(
        "ir.mail_server", "Outgoing Server", ondelete="restrict", readonly=True, copy=False
    )
    # Connection settings live on the backing servers; these fields read and write them for whoever may
    # manage the account (owner of a personal box, Email admin), and are empty for everybody else.
    imap_host = fields.Char("IMAP Host", compute="_compute_connection", inverse="_inverse_connection")
    imap_port = fields.Integer("IMAP Port", compute="_compute_connection", inverse="_inverse_connection")
    imap_encryption = fields.Selection(
        [("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", "None")],
        "IMAP Encryption",
        default="ssl",
        required=True,
    )
    imap_user = fields.Char("IMAP Username", compute="_compute_connection", inverse="_inverse_connection")
    imap_password = fields.Char("IMAP Password", compute="_compute_connection", inverse="_inverse_connection")
    smtp_host = fields.Char("SMTP Host", compute="_compute_connection", inverse="_inverse_connection")
    smtp_port = fields.Integer("SMTP Port", compute="_compute_connection", inverse="_inverse_connection")
    smtp_encryption = fields.Selection(
        [("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", "None")],
        "SMTP Encryption",
        default="ssl",
        required=True,
    )
    mail_provider = fields.Selection(
        [(provider.key, provider.name) for provider in providers.PROVIDERS] + [(providers.GENERIC, "Other server")],
        "Provider",
        help="Recognized from the address (its domain, or the domain's MX servers): it fills the usual servers, "
        "ports and encryption, which stay editable, and explains what to do when the password is refused.",
    )
    smtp_same_credentials = fields.Boolean(
        "Use the same username and password as for incoming mail (IMAP)",
        default=True,
    )
    auth_method = fields.Selection(
        [("password", "Password"), ("oauth", "Sign in with Google / Microsoft (OAuth)")],
        "Authentication",
        default="password",
        required=True,
        help="Microsoft 365 only accepts a Microsoft sign-in (OAuth); Gmail accepts a Google sign-in or an "
        "application password.",
    )
    oauth_connected = fields.Boolean(
        "Signed In",
        compute="_compute_oauth_connected",
        help="Google or Microsoft gave Odoo access to this mailbox; the tokens are kept on the box's servers, "
        "never shown to anybody.",
    )
    smtp_user = fields.Char("SMTP Username", compute="_compute_connection", inverse="_inverse_connection")
    smtp_password = fields.Char("SMTP Password", compute="_compute_connection", inverse="_inverse_connection")

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

    # What the emails written from this box look like (guide: « Notifications et signatures »).
    sender_name_mode = fields.Selection(
        [("user", "User's name"), ("box", "Mailbox name")],
        "Sender Name",
        default="user",
        required=True,
        help="Display name of the From of the emails written from this mailbox: the name of the user who writes, "
        "or the name of the mailbox.",
    )
    sender_display_name = fields.Char(
        "Mailbox Name", help="Shown to the recipients as the sender when the sender name is the mailbox name."
    )
    signature_mode = fields.Selection(
        [("box", "Mailbox signature"), ("user", "User's signature"), ("none", "No signature")],
        "Signature",
        default="user",
        required=True,
        help="Inserted in new emails, replies to all and forwards written from this mailbox (editable before sending).",
    )
    signature = fields.Html("Mailbox Signature", sanitize_style=True)

    _email_category_uniq = models.Constraint(
        "UNIQUE NULLS NOT DISTINCT (email, category, owner_id)",
        "This email account is already configured.",
    )

    # ------------------------------------------------------------------ rights

    def _is_comunik_admin(self):
        return self.env.user.has_group("comunik_mail.group_comunik_mail_admin")

    def _can_manage(self):
        """Admins manage every account, owners their personal one.

        For a record being edited in a form (onchange), the answer is the one of the *stored*
        record, read with the user's own rights: values sent by the client decide nothing.
        """
        self.ensure_one()
        if self.env.su or self._is_comunik_admin():
            return True
        record = self if isinstance(self.id, int) else self._origin
        if not record:  # a new, unsaved box: its creator's own personal box
            return self.category == "personal" and self.owner_id == self.env.user
        return record.category == "personal" and record.owner_id == self.env.user

    def _check_manage(self):
        for account in self:
            if not account._can_manage():
                raise AccessError(
                    self.env._(
                        "Only the owner of a personal mailbox and the administrators can manage %s.", account.email
                    )
                )

    def _check_protected_values(self, vals):
        """A clear refusal of the fields only the addon sets (_has_field_access is the safety net)."""
        if self.env.su:
            return
        defaults = {key[8:] for key in self.env.context if key.startswith("default_")}
        forbidden = SUPERUSER_ONLY_FIELDS & (set(vals) | defaults)
        if forbidden:
            raise AccessError(
                self.env._(
                    "These fields are set by the Email app itself and cannot be changed: %s.",
                    ", ".join(sorted(forbidden)),
                )
            )

    def _has_field_access(self, field, operation):
        """Backing servers and sync state are set by the addon only, never from values sent by users."""
        if operation == "write" and not self.env.su and field.name in SUPERUSER_ONLY_FIELDS:
            return False
        return super()._has_field_access(field, operation)

    # ------------------------------------------------------------------ compute

    @api.depends("category", "owner_id")
    @api.depends_context("uid")
    def _compute_can_edit(self):
        for account in self:
            account.can_edit = account._can_manage()

    @api.depends("auth_method", "mail_provider")
    def _compute_oauth_connected(self):
        for account in self:
            kind = account._oauth_kind()
            record_id = account._origin.id if account._origin else False
            servers = self.sudo().browse(record_id) if record_id else self.browse()
            account.oauth_connected = bool(kind and servers and servers._oauth_refresh_token(kind))

    @api.depends_context("uid")
    def _compute_connection(self):
        """Settings and passwords of the *stored* account's servers, for its managers only.

        A new record's server links come from the client and mean nothing: only the id of the
        stored record (checked with the user's rights by ``_can_manage``) leads to a server.
        """
        for account in self:
            record_id = account._origin.id if account._origin else False
            if record_id and account._can_manage():
                account.update(self.sudo().browse(record_id)._stored_connection_values())
            else:
                account.update(dict.fromkeys(CONNECTION_FIELDS, False))
                if not record_id:  # a new box: the usual ports of the chosen encryption
                    account.imap_port = IMAP_PORTS[account.imap_encryption or "ssl"]
                    account.smtp_port = SMTP_PORTS[account.smtp_encryption or "ssl"]

    def _stored_connection_values(self):
        """Connection settings as stored on the backing servers (caller checked the rights)."""
        imap, smtp = self.sudo().fetchmail_server_id, self.sudo().mail_server_id
        same = self.smtp_same_credentials
        return {
            "imap_host": imap.server,
            "imap_port": imap.port,
            "imap_user": imap.user,
            "imap_password": imap.password,
            "smtp_host": smtp.smtp_host,
            "smtp_port": smtp.smtp_port,
            "smtp_user": imap.user if same else smtp.smtp_user,
            "smtp_password": imap.password if same else smtp.smtp_pass,
        }

    def _pending_connection_values(self):
        """The stored settings, overlaid with those being written (in the cache). Never reads the computed
        fields themselves: computing one would recompute its siblings over a value being written."""
        values = self._stored_connection_values()
        cache = self._cache
        values.update({name: cache[name] for name in CONNECTION_FIELDS if name in cache})
        return values

    def _inverse_connection(self):
        self._check_manage()
        self._check_host_policy()
        self._push_servers()

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

    # ------------------------------------------------------------------ CRUD

    @api.model
    def _server_values(self, vals):
        """Values for the fetchmail.server / ir.mail_server backing a new account."""
        options = {
            "email": vals.get("email", ""),
            "category": vals.get("category", "personal"),
            "imap_encryption": vals.get("imap_encryption") or "ssl",
            "smtp_encryption": vals.get("smtp_encryption") or "ssl",
            "smtp_same_credentials": vals.get("smtp_same_credentials", True),
            "oauth_kind": oauth_kind(vals.get("auth_method"), vals.get("mail_provider")),
        }
        return self._backing_values(options, vals)

    def _backing_values(self, options, values):
        """What a box's fetchmail.server and ir.mail_server hold, from its options and connection settings.

        An OAuth box logs in with Odoo's own XOAUTH2 (google_gmail / microsoft_outlook): the servers' type says so,
        they keep no password, and those modules' rules apply (IMAP over SSL, SMTP with STARTTLS).
        """
        email = options["email"] or ""
        kind = options["oauth_kind"]
        user = values.get("imap_user") or email
        same = options["smtp_same_credentials"] or bool(kind)
        imap = {
            "name": email,
            "server_type": kind or "imap",
            "server": values.get("imap_host"),
            "port": values.get("imap_port") or 993,
            "is_ssl": bool(kind) or options["imap_encryption"] == "ssl",
            "user": user,
            "password": False if kind else values.get("imap_password"),
        }
        smtp = {
            "name": email,
            "from_filter": email,
            "smtp_host": values.get("smtp_host"),
            "smtp_port": values.get("smtp_port") or 465,
            "smtp_encryption": "starttls" if kind else SMTP_ENCRYPTION[options["smtp_encryption"]],
            "smtp_authentication": kind or "login",
            "smtp_user": user if same else values.get("smtp_user"),
            "smtp_pass": False if kind else (values.get("imap_password") if same else values.get("smtp_password")),
            "comunik_private": not self._trusted_for_outgoing(options["category"]),
        }
        return imap, smtp

    def _trusted_for_outgoing(self, category):
        """Only shared boxes configured by a Settings admin may be chosen by Odoo for other mail
        (its automatic choice by From address): anybody else could route the company's mail,
        password resets included, through a server of their own."""
        return category == "shared" and (self.env.su or self.env.user.has_group("base.group_system"))

    def _check_user_values(self, vals):
        """Non-admins may only manage their own personal boxes."""
        if self.env.su or self._is_comunik_admin():
            return
        if vals.get("category", "personal") != "personal" or vals.get("owner_id", self.env.uid) != self.env.uid:
            raise AccessError(self.env._("Only administrators can create or modify a shared account."))
        if _assigns(vals.get("department_ids")) or _assigns(vals.get("dispatcher_ids")):
            raise AccessError(self.env._("Only administrators can assign departments or dispatchers."))

    @api.model_create_multi
    def create(self, vals_list):
        clean_list, servers = [], []
        for vals in vals_list:
            self._check_protected_values(vals)
            self._check_user_values(vals)
            vals = dict(vals)
            if "sent_copy" not in vals and vals.get("mail_provider") in SERVER_KEEPS_SENT:
                vals["sent_copy"] = False
            if vals.get("email"):
                vals["email"] = vals["email"].strip()
            for host_field, port_field in (("imap_host", "imap_port"), ("smtp_host", "smtp_port")):
                self._check_host_allowed(vals.get(host_field), vals.get(port_field))
            servers.append(self._server_values(vals))
            clean_list.append({k: v for k, v in vals.items() if k not in CONNECTION_FIELDS})
        accounts = super().create(clean_list)
        for account, (imap, smtp) in zip(accounts, servers, strict=True):
            # Linked with sudo: the link fields are not writable by users (see _has_field_access).
            account.sudo().write(
                {
                    "fetchmail_server_id": self.env["fetchmail.server"].sudo().create(imap).id,
                    "mail_server_id": self.env["ir.mail_server"].sudo().create(smtp).id,
                }
            )
        return accounts

    def write(self, vals):
        self._check_protected_values(vals)
        if not self.env.su and not self._is_comunik_admin():
            self._check_manage()
            self._check_user_values({"category": self[:1].category, "owner_id": self[:1].owner_id.id, **vals})
        res = super().write(vals)
        if SERVER_OPTION_FIELDS & set(vals):
            self._push_servers()
        if CREDENTIAL_FIELDS & set(vals):
            self.sudo()._reset_login_backoff()
        if ASSIGN_FIELDS & set(vals):
            self.env["comunik.mail.assignment"]._assign_backlog(self)
        return res

    def _push_servers(self):
        """Write the account's settings to its backing servers (with sudo: users have no rights on them).

        Tokens of a sign-in that no longer applies (another provider, back to a password) are dropped.
        """
        for account in self:
            kind = account._oauth_kind()
            options = {
                "email": account.email,
                "category": account.category,
                "imap_encryption": account.imap_encryption,
                "smtp_encryption": account.smtp_encryption,
                "smtp_same_credentials": account.smtp_same_credentials,
                "oauth_kind": kind,
            }
            imap, smtp = account._backing_values(options, account._pending_connection_values())
            stale = {name: False for other, names in OAUTH_TOKEN_FIELDS.items() if other != kind for name in names}
            account.fetchmail_server_id.sudo().write({**imap, **stale})
            account.mail_server_id.sudo().write({**smtp, **stale})

    def unlink(self):
        self.check_access("unlink")
        self._check_manage()
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

    def copy(self, default=None):
        self._check_manage()
        return super().copy(default)

    # ------------------------------------------------------------------ onchange

    @api.onchange("email")
    def _onchange_email(self):
        if self.email and not self.imap_user:
            self.imap_user = self.email.strip()
        if self.email and not (self.imap_host or self.smtp_host):
            self._apply_preset(providers.suggest(self.email.strip(), mx_lookup=_mx_lookup))

    @api.onchange("mail_provider")
    def _onchange_mail_provider(self):
        """Choosing a provider by hand fills its servers (the generic entry guesses from the domain)."""
        if not self.mail_provider:
            return
        if self.mail_provider in providers.BY_KEY:
            self._apply_preset(providers.BY_KEY[self.mail_provider].preset())
        elif providers.domain_of((self.email or "").strip()):
            self._apply_preset(providers.generic_preset(providers.domain_of(self.email.strip())))

    def _apply_preset(self, preset):
        """Fill the servers of the recognized provider; the user can still change every value.

        Microsoft only takes its own sign-in; Gmail takes Google's sign-in when the admin registered Odoo's
        Google application, else the guide's application password.
        """
        if not preset:
            return
        kind = OAUTH_KINDS.get(preset.provider_key)
        oauth = kind == "outlook" or (kind == "gmail" and self._oauth_client_configured(kind))
        self.auth_method = "oauth" if oauth else "password"
        self.update(
            {
                "mail_provider": preset.provider_key,
                "sent_copy": preset.provider_key not in SERVER_KEEPS_SENT,
                "imap_host": preset.imap_host,
                "imap_port": preset.imap_port,
                "imap_encryption": preset.imap_encryption,
                "smtp_host": preset.smtp_host,
                "smtp_port": preset.smtp_port,
                "smtp_encryption": preset.smtp_encryption,
            }
        )
        if oauth:
            self._apply_oauth_ports()

    @api.onchange("imap_encryption")
    def _onchange_imap_encryption(self):
        self.imap_port = IMAP_PORTS[self.imap_encryption or "ssl"]

    @api.onchange("smtp_encryption")
    def _onchange_smtp_encryption(self):
        self.smtp_port = SMTP_PORTS[self.smtp_encryption or "ssl"]

    @api.onchange("connection_test_count")
    def _onchange_connection_test_count(self):
        """Test the form's current values, saved or not (button « Tester la connexion »)."""
        if not self.connection_test_count:
            return None
        self._check_manage()
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
        """Where and as whom to connect (an OAuth box: always SSL/TLS, as Odoo's Google and Microsoft
        servers require; its access token is added by ``_imap_login_settings``)."""
        return connection.ServerSettings(
            host=(self.imap_host or "").strip(),
            port=self.imap_port or 993,
            encryption="ssl" if self._oauth_kind() else self.imap_encryption or "ssl",
            username=self.imap_user or self.email or "",
            password=self.imap_password or "",
            timeout=self._connection_timeout(),
        )

    def _smtp_settings(self):
        """As ``_imap_settings``; an OAuth box sends with STARTTLS and the IMAP username."""
        same = self.smtp_same_credentials or bool(self._oauth_kind())
        return connection.ServerSettings(
            host=(self.smtp_host or "").strip(),
            port=self.smtp_port or 465,
            encryption="starttls" if self._oauth_kind() else self.smtp_encryption or "ssl",
            username=(self.imap_user or self.email or "") if same else (self.smtp_user or ""),
            password=(self.imap_password or "") if same else (self.smtp_password or ""),
            timeout=self._connection_timeout(),
        )

    def _imap_login_settings(self):
        """IMAP settings to log in with: an OAuth box's carry a valid access token instead of a password."""
        return self._with_oauth_token(self._imap_settings(), "IMAP")

    def _with_oauth_token(self, settings, protocol):
        kind = self._oauth_kind()
        if not kind:
            return settings
        record = self if isinstance(self.id, int) else self._origin
        server = record.sudo().fetchmail_server_id if protocol == "IMAP" else record.sudo().mail_server_id
        return dataclasses.replace(settings, password="", access_token=self._oauth_access_token(kind, server))

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
        if result.code == connection.AUTH:
            help_text = self._password_help(self._provider_of(settings.host))
            if help_text:
                message += "\n" + help_text
        return message

    def _provider_of(self, host):
        """The provider whose servers these are (the form may have changed them since it was recognized)."""
        host = (host or "").lower().rstrip(".")
        if host.endswith(GMAIL_HOSTS):
            return "gmail"
        for provider in providers.PROVIDERS:
            if host in (provider.imap_host, provider.smtp_host):
                return provider.key
        return self.mail_provider if len(self) == 1 else False

    def _password_help(self, provider_key):
        """What to do when the provider refuses the password (the guide's Gmail help, and its equivalents)."""
        return {
            "gmail": self.env._(
                "For Gmail, use an application password: Manage your Google Account → search for "
                "“App passwords” → create one and paste it into the Password field."
            ),
            "microsoft": self.env._(
                "Microsoft 365 and Outlook.com no longer accept passwords over IMAP/SMTP: the connection needs a "
                "Microsoft account sign-in (OAuth)."
            ),
            "ovh": self.env._(
                "Enter the password of the mailbox (not of the OVHcloud customer account); it is changed in the "
                "OVHcloud Control Panel → Web Cloud → Emails."
            ),
            "orange": self.env._(
                "Enter the password of your Orange address; if it is refused, check in the Mail Orange settings "
                "that access from an email program is allowed."
            ),
            "free": self.env._(
                "Enter the password of your Free address (the webmail one, not the subscriber area's) and check "
                "in the subscriber area, email section, that IMAP access is on."
            ),
            "sfr": self.env._(
                "Enter the password of your SFR address (the SFR Mail one) and check in the SFR Mail settings "
                "that access from an email program is allowed."
            ),
            "bbox": self.env._(
                "Enter the password of your @bbox.fr address (the Bbox webmail one); it is reset from the "
                "Bouygues Telecom customer area."
            ),
            "laposte": self.env._(
                "Enter the password of your laposte.net address and check in the webmail settings that access "
                "from an email program is allowed."
            ),
            "ionos": self.env._(
                "Enter the mailbox password set in the IONOS customer area (Email → your address), not the IONOS "
                "account password."
            ),
            "gandi": self.env._(
                "Enter the mailbox password set in the Gandi interface (Domain → Mailboxes), not the Gandi account "
                "password."
            ),
            "infomaniak": self.env._(
                "Enter the address's password set in the Infomaniak Manager (Mail Service), or an application "
                "password if two-factor authentication is on."
            ),
            "icloud": self.env._(
                "Apple refuses the Apple ID password: create an “app-specific password” on appleid.apple.com "
                "(Sign-In and Security → App-Specific Passwords) and enter it here."
            ),
            "yahoo": self.env._(
                "Yahoo refuses the usual password: generate an application password (Account Info → Account "
                "Security → Generate app password) and enter it here."
            ),
        }.get(provider_key)

    def _run_connection_test(self):
        """Check IMAP then SMTP; return the validity values to store.

        Rate-limited per user and logged with the host reached: the test makes the Odoo server
        connect wherever the form says, so it must not become a port scanner.
        """
        self.ensure_one()
        self.env["comunik.mail.connection.log"]._check_rate()
        problems = []
        for protocol, settings, check in (
            ("IMAP", self._imap_settings(), connection.check_imap),
            ("SMTP", self._smtp_settings(), connection.check_smtp),
        ):
            if not settings.host:
                problems.append(self.env._("%s: fill in the host name.", protocol))
                continue
            self._check_host_allowed(settings.host, settings.port)
            try:
                settings = self._with_oauth_token(settings, protocol)
            except OAuthSignInError as exc:
                problems.append(f"{protocol}: {exc}")
                continue
            result = check(settings)
            self.env["comunik.mail.connection.log"]._log(self, protocol, settings, result.code)
            if not result.ok:
                _logger.info("%s check of %s failed: %s", protocol, self.email, result.detail)
                problems.append(self._failure_message(protocol, settings, result))
        return {
            "validity_state": "invalid" if problems else "valid",
            "validity_message": "\n".join(problems) or self.env._("Connection successful: IMAP and SMTP both work."),
            "validity_date": fields.Datetime.now(),
        }

    # ------------------------------------------------------------------ OAuth (Google, Microsoft)

    def _oauth_kind(self):
        """ "gmail" / "outlook" when the box signs in with Google / Microsoft (Odoo's google_gmail /
        microsoft_outlook do the OAuth work on its servers), else False."""
        return oauth_kind(self.auth_method, self.mail_provider) if self else False

    def _oauth_refresh_token(self, kind):
        return self.sudo().fetchmail_server_id[OAUTH_TOKEN_FIELDS[kind][0]]

    def _oauth_client_configured(self, kind):
        Config = self.env["ir.config_parameter"].sudo()
        return all(Config.get_param(param) for param in OAUTH_CLIENT_PARAMS[kind])

    def _oauth_access_token(self, kind, server):
        """A valid access token of ``server`` (the box's fetchmail.server or ir.mail_server), renewed by
        Odoo's google_gmail / microsoft_outlook when it has expired (and written back on that server)."""
        provider = OAUTH_PROVIDER_NAMES[kind]
        refresh_field, access_field, _expiration = OAUTH_TOKEN_FIELDS[kind]
        server = server.sudo()
        account = self.with_context(lang=(self.owner_id or self.env.user).lang or self.env.lang)
        if not server[refresh_field]:
            raise OAuthSignInError(
                account.env._(
                    "%(email)s is not signed in to %(provider)s yet: click « Sign in with %(provider)s » on the "
                    "account.",
                    email=self.email,
                    provider=provider,
                )
            )
        user = server.user if server._name == "fetchmail.server" else server.smtp_user
        try:
            if kind == "gmail":
                server._generate_oauth2_string(user, server[refresh_field])
            else:
                server._generate_outlook_oauth2_string(user)
        except UserError as exc:
            _logger.info("%s refused to renew the access token of %s: %s", provider, self.email, exc)
            raise OAuthSignInError(
                account.env._(
                    "%(provider)s refused to renew the access of %(email)s (sign-in expired or withdrawn): reconnect "
                    "the account with « Sign in with %(provider)s ».",
                    email=self.email,
                    provider=provider,
                )
            ) from exc
        except (requests.RequestException, ValueError, KeyError) as exc:
            _logger.warning("%s sign-in service unreachable for %s: %s", provider, self.email, exc)
            raise OAuthSignInError(
                account.env._(
                    "The %(provider)s sign-in service could not be reached to renew the access of %(email)s; the "
                    "next synchronization tries again.",
                    email=self.email,
                    provider=provider,
                ),
                refused=False,
            ) from exc
        return server[access_field]

    def action_oauth_connect(self):
        """« Sign in with Google / Microsoft »: Odoo's consent flow on the box's incoming server.

        The owner signs in for a personal box, an Email admin for a shared one (``_check_manage``); the
        callback (controllers/main.py) checks that again and gives the outgoing server the same grant.
        """
        self.ensure_one()
        self.check_access("write")
        self._check_manage()
        kind = self._oauth_kind()
        if not kind:
            raise UserError(
                self.env._(
                    "Choose the provider Gmail / Google Workspace or Microsoft 365 / Outlook.com and the "
                    "authentication « Sign in with Google / Microsoft » first."
                )
            )
        if not self._oauth_client_configured(kind):
            raise UserError(
                self.env._(
                    "The Odoo administrator must first register the %(provider)s application: Settings → General "
                    "Settings → Discuss → « Use a %(server)s Server » (client ID and secret).",
                    provider=OAUTH_PROVIDER_NAMES[kind],
                    server="Gmail" if kind == "gmail" else "Outlook",
                )
            )
        server = self.sudo().fetchmail_server_id
        return server.open_google_gmail_uri() if kind == "gmail" else server.open_microsoft_outlook_uri()

    def _oauth_signed_in(self, user):
        """Odoo's callback stored the grant on the incoming server: the outgoing server signs in with it too
        (Google's token serves IMAP and SMTP; Microsoft's refresh token gets SMTP its own access token)."""
        self.ensure_one()
        kind = self._oauth_kind()
        imap, smtp = self.sudo().fetchmail_server_id, self.sudo().mail_server_id
        refresh_field, access_field, expiration_field = OAUTH_TOKEN_FIELDS[kind]
        if kind == "gmail":
            smtp.write({name: imap[name] for name in OAUTH_TOKEN_FIELDS[kind]})
        else:
            smtp.write({refresh_field: imap[refresh_field], access_field: False, expiration_field: False})
        self.sudo().write({"validity_state": "untested", "validity_message": False})
        self.sudo()._reset_login_backoff()
        self.sudo()._message_log(
            body=self.env._(
                "Signed in to %(provider)s by %(user)s.", provider=OAUTH_PROVIDER_NAMES[kind], user=user.name
            )
        )

    @api.onchange("auth_method")
    def _onchange_auth_method(self):
        """Google and Microsoft take OAuth over IMAP with SSL/TLS and SMTP with STARTTLS."""
        if self.auth_method == "oauth":
            self._apply_oauth_ports()

    def _apply_oauth_ports(self):
        self.update(
            {
                "imap_encryption": "ssl",
                "imap_port": 993 if self.imap_port in (False, 0, 143) else self.imap_port,
                "smtp_encryption": "starttls",
                "smtp_port": 587 if self.smtp_port in (False, 0, 25, 465) else self.smtp_port,
                "smtp_same_credentials": True,
            }
        )

    # ------------------------------------------------------------------ host policy

    def _check_host_allowed(self, host, port):
        """Non-admins reach public hosts only, plus the private ones an admin allowed
        (system parameter ``comunik_mail.allowed_private_hosts``: names, addresses or networks)."""
        host = (host or "").strip()
        if not host or self.env.su or self._is_comunik_admin():
            return
        allowed = self.env["ir.config_parameter"].sudo().get_param(HOST_POLICY_PARAM, "")
        verdict = host_policy.check_host(host, port or 0, allowed)
        if not verdict.ok:
            _logger.warning("User %s refused private mail host %s (%s)", self.env.uid, host, verdict.addresses)
            raise UserError(
                self.env._(
                    "The server “%(host)s” is on a private or local network: only an administrator can allow it "
                    "(system parameter %(param)s).",
                    host=host,
                    param=HOST_POLICY_PARAM,
                )
            )

    def _check_owner_host_policy(self, settings):
        """A non-admin's personal box is synced only from hosts its owner may use: a host name repointed to a
        private address after it was checked must not let the sync reach the internal network."""
        owner = self.owner_id
        if self.category == "personal" and owner and not owner.has_group("comunik_mail.group_comunik_mail_admin"):
            self.with_user(owner).with_context(lang=owner.lang)._check_host_allowed(settings.host, settings.port)

    def _check_host_policy(self):
        """Hosts being changed must pass the policy (those an admin set before stay as they are)."""
        for account in self:
            stored = account._stored_connection_values()
            values = account._pending_connection_values()
            for host, port in (("imap_host", "imap_port"), ("smtp_host", "smtp_port")):
                if (values[host], values[port]) != (stored[host], stored[port]):
                    account._check_host_allowed(values[host], values[port])

    def _check_can_send(self):
        """Who may write from a box: its owner (personal box), the members of its departments and its
        dispatchers (shared box), the Email admins; decided by the box's record rules, with the caller's rights."""
        for account in self:
            if not account.active or not account.sudo(False).has_access("read"):
                raise AccessError(self.env._("You cannot send emails from the mailbox %s.", account.sudo().email))

    @api.model
    def _sendable_accounts(self):
        """The boxes the current user may write from (empty without Email rights)."""
        if not self.has_access("read"):
            return self.browse()
        return self.search([("active", "=", True)])

    def _sender_name(self, user):
        """Display name of the From of an email written by ``user`` from this box."""
        self.ensure_one()
        account = self.sudo()
        if account.sender_name_mode == "box":
            return account.sender_display_name or account.email
        return user.name

    def _signature_html(self, user):
        """The signature inserted in the emails ``user`` writes from this box (empty Markup if none)."""
        self.ensure_one()
        account = self.sudo()
        if account.signature_mode == "box":
            signature = account.signature
        elif account.signature_mode == "user":
            signature = user.sudo().signature
        else:
            signature = False
        return Markup("") if is_html_empty(signature) else Markup(signature)

    def _own_addresses(self):
        """Normalized addresses this box receives as itself: its address and its login names that are
        addresses (never proposed as recipients of its own emails)."""
        addresses = set()
        for account in self.sudo():
            logins = [account.email, account.fetchmail_server_id.user, account.mail_server_id.smtp_user]
            addresses.update(email_normalize(login) for login in logins if login and email_normalize(login))
        return addresses

    def _member_users(self):
        """Users who may be assigned these boxes' emails: members of their departments."""
        return self.sudo().department_ids.member_ids.user_id

    # ------------------------------------------------------------------ actions

    def action_test_connection(self):
        """Test saved accounts (list button); reports the outcome as a notification."""
        self._check_manage()
        for account in self:
            values = account._run_connection_test()
            account.sudo().write(values)
            if values["validity_state"] == "valid":
                account.sudo()._reset_login_backoff()
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

    # ================================================================== synchronization

    sync_enabled = fields.Boolean(
        "Automatic Synchronization", readonly=True, copy=False, help="Turned on by the first synchronization."
    )
    sync_state = fields.Selection(
        [("never", "Never synchronized"), ("running", "Running"), ("ok", "OK"), ("error", "Error")],
        "Synchronization",
        default="never",
        readonly=True,
        copy=False,
    )
    sync_date = fields.Datetime("Last Synchronization", readonly=True, copy=False)
    sync_error_message = fields.Text("Synchronization Error", readonly=True, copy=False)
    sync_error_date = fields.Datetime("Error Date", readonly=True, copy=False)
    sync_error_count = fields.Integer("Consecutive Failures", readonly=True, copy=False)
    sync_auth_failure_count = fields.Integer("Refused Logins", readonly=True, copy=False)
    sync_retry_date = fields.Datetime(
        "Next Attempt",
        readonly=True,
        copy=False,
        help="The server refused the login: automatic synchronization waits until then (longer after each refusal, "
        "as mail servers lock accounts after repeated failures). A successful connection test or a new password "
        "retries at once.",
    )
    sync_attempt_date = fields.Datetime(
        "Last Attempt",
        readonly=True,
        copy=False,
        help="Automatic synchronization serves the boxes tried longest ago first.",
    )
    sync_message_count = fields.Integer("Synchronized Emails", compute="_compute_sync_message_count")
    quarantine_ids = fields.One2many(
        "comunik.mail.quarantine",
        "account_id",
        readonly=True,
        help="Emails that could not be stored at all: the synchronization moved past them.",
    )
    quarantine_count = fields.Integer("Quarantined Emails", compute="_compute_quarantine_count")
    folder_ids = fields.One2many("comunik.mail.folder", "account_id", "Folders", readonly=True)
    folders_listed_date = fields.Datetime("Folders Listed On", readonly=True, copy=False)
    sent_copy = fields.Boolean(
        "Copy Sent Emails to the Server",
        default=True,
        help="Every email sent from Odoo is copied, read, into the box's Sent folder, so that Outlook or a phone "
        "on the same box shows the team's answers. Off for Gmail and Microsoft 365, which keep what their SMTP "
        "servers send by themselves.",
    )
    conversation_ids = fields.One2many("comunik.mail.conversation", "account_id", "Conversations")

    def _compute_sync_message_count(self):
        counts = dict(
            self.env["mail.message"]
            .sudo()
            ._read_group([("comunik_account_id", "in", self.ids)], ["comunik_account_id"], ["__count"])
        )
        for account in self:
            account.sync_message_count = counts.get(account, 0)

    @api.depends("quarantine_ids")
    def _compute_quarantine_count(self):
        for account in self:
            account.quarantine_count = len(account.quarantine_ids)

    # ------------------------------------------------------------------ entry points

    def action_sync(self):
        """Button « Synchroniser »: sync now (bounded in time), then keep syncing automatically."""
        results = self.sync_now()
        failed = [r for r in results if r["state"] == "error"]
        busy = [r for r in results if r["state"] == "busy"]
        if failed:
            message, kind = "\n".join(r["error"] for r in failed), "danger"
        elif busy:
            message, kind = self.env._("A synchronization of this account is already running."), "warning"
        else:
            message = self.env._("%(count)s new email(s) synchronized.", count=sum(r["new"] for r in results))
            kind = "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Synchronization"),
                "message": message,
                "type": kind,
                "sticky": bool(failed),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def sync_now(self, time_budget=INTERACTIVE_BUDGET):
        """Synchronize these accounts now; public API (XML-RPC / JSON-RPC) for admins and integrators.

        :return: one dict per account: ``id``, ``state`` (ok / error / busy), ``new`` emails,
                 ``message_count``, ``error`` (French reason or False)
        """
        self.check_access("read")
        self._check_manage()
        results = []
        for account in self:
            results.append(account.sudo()._sync(time_budget=time_budget, enable=True))
        if any(r["more"] for r in results):
            self.env["comunik.mail.account"].sudo()._trigger_sync_jobs()
        for result in results:
            result.pop("more")
        return results

    def get_sync_state(self):
        """Sync state for monitoring; public API."""
        self.check_access("read")
        return [
            {
                "id": account.id,
                "email": account.email,
                "state": account.sync_state,
                "last_sync": fields.Datetime.to_string(account.sync_date) if account.sync_date else False,
                "message_count": account.sync_message_count,
                "error": account.sync_error_message or False,
                "error_date": fields.Datetime.to_string(account.sync_error_date) if account.sync_error_date else False,
            }
            for account in self
        ]

    @api.model
    def _cron_sync(self, time_budget=None):
        """Scheduled action: every box with automatic sync, each isolated from the others' failures.

        Boxes are *claimed* one at a time (``claim_box_id``: ``FOR UPDATE SKIP LOCKED``), so every cron
        thread of every Odoo process and host sharing the database syncs different boxes at the same time:
        the addon ships several sync jobs (``ir_cron_comunik_mail_sync``, ``_2``…), Odoo runs each on a free
        cron thread. Within a job, ``comunik_mail.sync_threads`` workers claim and sync boxes side by side
        (a box waits on the network far more than on Python). A pass serves each box at most once, the boxes
        tried longest ago first (no starvation: a box that failed or was cut goes to the back). The run fits
        in Odoo's cron time limit; progress is committed per batch and per box.

        :return: the ids of the boxes this run claimed
        """
        if time_budget is None:
            time_budget = cron_time_budget()
        deadline = time.monotonic() + time_budget
        self.env.flush_all()  # the claims run in cursors of their own: they must see what the caller wrote
        self._reset_stale_running()
        worker = SyncWorker(self, self._db_now(), self._sync_interval(), deadline)
        threads = self._sync_threads()
        if threads == 1:
            results = [worker.run()]
        else:
            with ThreadPoolExecutor(threads, thread_name_prefix="comunik_sync", initializer=worker.name_thread) as pool:
                results = [future.result() for future in [pool.submit(worker.run) for _index in range(threads)]]
        self.env.invalidate_all()  # the workers committed in cursors of their own
        if any(more for _claimed, more in results):
            self._trigger_sync_jobs()
        return [account_id for claimed, _more in results for account_id in claimed]

    @api.model
    def _sync_threads(self):
        """Boxes one job syncs at once (system parameter ``comunik_mail.sync_threads``, default 4, at most 32)."""
        value = self.env["ir.config_parameter"].sudo().get_param(SYNC_THREADS_PARAM)
        try:
            return min(max(int(value), 1), MAX_SYNC_THREADS) if value else DEFAULT_SYNC_THREADS
        except ValueError:
            return DEFAULT_SYNC_THREADS

    @api.model
    def _db_now(self):
        """The database's wall clock, to the microsecond (not the transaction's start): claims of all hosts are
        compared on one clock."""
        self.env.cr.execute("SELECT (clock_timestamp() AT TIME ZONE 'UTC')::timestamp")
        return self.env.cr.fetchone()[0]

    @api.model
    def _claim_next_box(self, pass_start, skip_ids=()):
        """Take the next due box for this worker, or an empty recordset when none is left in this pass
        (see ``claim_box_id``)."""
        account = self.browse(claim_box_id(self.env.registry, pass_start, self._sync_interval(), skip_ids) or [])
        account.invalidate_recordset(["sync_attempt_date"])
        return account

    @api.model
    def _sync_interval(self):
        """Seconds between two automatic polls of a box (system parameter, default 30)."""
        value = self.env["ir.config_parameter"].sudo().get_param(SYNC_INTERVAL_PARAM)
        try:
            return max(float(value), 0.0) if value not in (None, False, "") else DEFAULT_SYNC_INTERVAL
        except ValueError:
            return DEFAULT_SYNC_INTERVAL

    @api.model
    def _trigger_sync_jobs(self):
        """Wake every sync job now (Odoo's cron workers pick them up on free threads)."""
        for xmlid in SYNC_JOBS:
            job = self.env.ref(xmlid, raise_if_not_found=False)
            if job and job.active:
                job.sudo()._trigger()

    @api.model
    def _reset_stale_running(self):
        """A run killed mid-sync left its boxes « En cours »: those whose lock is free are not running.

        In a cursor of its own (committed at once), like the syncs: the caller's stays free of row locks.
        """
        with self.env.registry.cursor() as cr:
            cr.execute("SELECT id FROM comunik_mail_account WHERE sync_state = 'running'")
            stale = []
            for (account_id,) in cr.fetchall():
                cr.execute(SQL("SELECT pg_try_advisory_lock(%s, %s)", LOCK_NAMESPACE, account_id))
                if cr.fetchone()[0]:
                    cr.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", LOCK_NAMESPACE, account_id))
                    stale.append(account_id)
            if stale:
                _logger.info("Reset %d box(es) left running by an interrupted synchronization", len(stale))
                cr.execute(
                    "UPDATE comunik_mail_account SET sync_state = 'ok' WHERE id = ANY(%s) AND sync_state = 'running'",
                    [stale],
                )
        if stale:
            self.browse(stale).invalidate_recordset(["sync_state"])

    # ------------------------------------------------------------------ engine

    def _sync(
        self, time_budget=INTERACTIVE_BUDGET, batch_size=imap_sync.DEFAULT_BATCH_SIZE, enable=False, claimed=False
    ):
        """Fetch what is new in the box's folders, committing after every batch (a crash loses at most one batch).

        Runs in a cursor of its own (``_sync_in_cursor``). The caller must not hold uncommitted writes on the
        account (they would lock its row): waiting for such a lock is bounded and reported as an error
        instead of hanging.
        """
        self.ensure_one()
        self.env.flush_all()  # the sync cursor must see what the caller wrote (e.g. a new password)
        with self.env.registry.cursor() as cr:
            result = self.with_env(self.env(cr=cr))._sync_in_cursor(time_budget, batch_size, enable, claimed)
        self.env.invalidate_all()  # the caller's cache predates what the sync cursor committed
        return result

    def _sync_in_cursor(
        self, time_budget=INTERACTIVE_BUDGET, batch_size=imap_sync.DEFAULT_BATCH_SIZE, enable=False, claimed=False
    ):
        """The sync itself, in this environment's cursor (one only the sync uses: it commits it).

        Holds a PostgreSQL advisory lock on the account for its whole duration, so the cron, the button,
        the API and the IDLE watcher never sync one account twice at the same time.
        """
        self.ensure_one()
        result = {"id": self.id, "state": "ok", "new": 0, "more": False, "error": False, "message_count": 0}
        cr = self.env.cr
        if not self._try_lock():
            result["state"] = "busy"
            return result
        cr.execute("SET lock_timeout = '15s'")
        try:
            if enable and not self.sync_enabled:
                self.sync_enabled = True
            if not claimed:  # a claimed box was stamped by its claim (``claim_box_id``)
                self.sync_attempt_date = fields.Datetime.now()  # to the back of the cron's queue
            result.update(self._sync_locked(time_budget, batch_size))
        except LockNotAvailable:
            result.update(state="error", error=self.env._("The account is being modified: try again."))
        finally:
            cr.rollback()  # everything worth keeping was committed batch by batch
            cr.execute("RESET lock_timeout")
            self._unlock()
        self.invalidate_recordset(["sync_message_count"])
        result["message_count"] = self.sync_message_count
        return result

    def _commit(self):
        """Commit the sync's own cursor (never the caller's): progress survives a crash, batch by batch."""
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _try_lock(self):
        self.env.cr.execute(SQL("SELECT pg_try_advisory_lock(%s, %s)", LOCK_NAMESPACE, self.id))
        return self.env.cr.fetchone()[0]

    def _unlock(self):
        self.env.cr.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", LOCK_NAMESPACE, self.id))

    def _sync_locked(self, time_budget, batch_size):
        """The IMAP loop over the box's folders, in one session: INBOX, the folders chosen for the inbox, then
        the Sent folder (answers sent from other clients). Each folder: plan the UIDs, fetch them in
        size-bounded batches, ingest and commit each one.

        A bad email never stops the loop (see comunik.mail.ingestion: bisection, degraded storage,
        quarantine), and each folder's ``last_uid`` moves past every batch. A folder other than INBOX that
        cannot be opened (deleted, renamed) is reported on that folder; the others go on.
        """
        deadline = time.monotonic() + time_budget
        self.sync_state = "running"
        self._commit()
        since = imap_sync.period_start(self.sync_period, fields.Date.context_today(self))
        new = 0
        more = False
        try:
            settings = self.sudo()._imap_settings()
            self._check_owner_host_policy(settings)
            settings = self.sudo()._with_oauth_token(settings, "IMAP")
            inbox = self._sync_folder("INBOX")
            with imap_sync.ImapFolderReader(settings, inbox.name) as reader:
                if not self.folders_listed_date:
                    self._update_folders(imap_folders.list_folders(reader.client))
                    self._commit()
                sent = self._sent_folder()
                if sent and self.env["comunik.mail.sent.copy"].sudo().search_count([("account_id", "=", self.id)]):
                    self.env["comunik.mail.sent.copy"]._append_pending(self, reader.client, sent.name)
                    self._commit()
                for folder in self._folders_to_sync():
                    if reader.folder != folder.name and not self._select_folder(reader, folder):
                        continue
                    folder_new, more = self._sync_one_folder(reader, folder, since, deadline, batch_size)
                    new += folder_new
                    if more:
                        break
        except Exception as exc:  # noqa: BLE001 - any failure is reported on the account, never raised
            self.env.cr.rollback()
            error = self._sync_error_message(exc)
            refused = getattr(exc, "refused", False) or connection.classify_error(exc) == connection.AUTH
            self._record_failure(error, login_refused=refused)
            return {"state": "error", "new": new, "error": error, "more": False}
        self.write(
            {
                "sync_state": "ok",
                "sync_date": fields.Datetime.now(),
                "sync_error_message": False,
                "sync_error_date": False,
                "sync_error_count": 0,
                "sync_auth_failure_count": 0,
                "sync_retry_date": False,
            }
        )
        self._commit()
        _logger.info("Synchronized %s: %d new email(s)%s", self.email, new, " (more to come)" if more else "")
        return {"state": "ok", "new": new, "more": more}

    def _select_folder(self, reader, folder):
        """Open a folder other than INBOX; a failure is that folder's, reported on it, never the box's."""
        try:
            reader.select(folder.name)
        except imaplib.IMAP4.error as exc:  # imapclient's errors derive from imaplib's
            _logger.info("Folder %s of %s cannot be opened: %s", folder.name, self.email, exc)
            folder.sync_error = self.env._("This folder could not be opened on the server: %s", exc)[:250]
            self._commit()
            return False
        if folder.sync_error:
            folder.sync_error = False
        return True

    def _sync_one_folder(self, reader, folder, since, deadline, batch_size):
        """New emails of the selected folder; return (stored count, whether time ran out before the end)."""
        Ingestion = self.env["comunik.mail.ingestion"]
        new = 0
        first_scan = not folder.uidvalidity
        plan = reader.plan(
            int(folder.uidvalidity or 0), int(folder.last_uid or 0), since, int(folder.scan_watermark or 0)
        )
        if plan.rescan:
            _logger.info("UIDVALIDITY of %s / %s changed: rescanning the period", self.email, folder.name)
            folder.write({"uidvalidity": str(plan.state.uidvalidity), "last_uid": 0, "scan_watermark": 0})
        elif not folder.uidvalidity:
            folder.uidvalidity = str(plan.state.uidvalidity)
        if (first_scan or plan.rescan) and plan.watermark:
            # First scan (or rescan): below the watermark, only the period, even after an interruption.
            folder.scan_watermark = plan.watermark
        self._commit()
        batches = reader.fetch(
            plan.uids,
            batch_size=batch_size,
            max_bytes=self._sync_param(FETCH_BYTES_PARAM, limits.MAX_FETCH_BYTES),
            max_message_bytes=Ingestion._max_message_bytes(),
        )
        for batch in batches:
            new += Ingestion._ingest(self, folder, batch, plan.state.uidvalidity).new
            folder.last_uid = max(int(folder.last_uid or 0), batch[-1].uid)
            self._commit()
            self.env.invalidate_all()  # keep the cache at one batch: it would slow down every create
            if time.monotonic() > deadline and batch[-1].uid != plan.uids[-1]:
                return new, True
        # Every planned UID is stored: the folder is covered up to the watermark, even when empty.
        covered = max(int(folder.last_uid or 0), plan.watermark)
        if covered != int(folder.last_uid or 0) or folder.scan_watermark:  # nothing to write: no UPDATE, no WAL
            folder.write({"last_uid": covered, "scan_watermark": 0})
        return new, False

    def _sync_param(self, name, default):
        """A positive integer system parameter (bytes), ``default`` when unset or invalid."""
        value = self.env["ir.config_parameter"].sudo().get_param(name)
        try:
            return max(int(value), 1024) if value else default
        except ValueError:
            return default

    def _sync_folder(self, name):
        folder = self.sudo().folder_ids.filtered(lambda f: f.name == name)
        return folder or self.env["comunik.mail.folder"].sudo().create(
            {"account_id": self.id, "name": name, "sync_enabled": name == "INBOX", "special_use": _inbox_use(name)}
        )

    def _folders_to_sync(self):
        """INBOX first, then the folders chosen for the inbox, then the Sent folder (read for outgoing emails)."""
        folders = self.sudo().folder_ids.filtered(lambda f: f.is_inbox or (f.present and (f.sync_enabled or f.is_sent)))
        return folders.sorted(lambda f: (not f.is_inbox, f.is_sent, f.name.casefold()))

    def _update_folders(self, infos):
        """Record the server's folders (LIST): new ones get their default choice, vanished ones are kept (their
        progress and conversations) but marked absent; the Sent folder is the server's ``\\Sent``, else the
        usual name."""
        self.ensure_one()
        Folder = self.env["comunik.mail.folder"].sudo()
        existing = {folder.name: folder for folder in self.sudo().folder_ids}
        sent = imap_folders.find_sent_folder(infos)
        seen = set()
        for info in infos:
            if not info.selectable:
                continue
            seen.add(info.name)
            values = {
                "special_use": "inbox" if info.is_inbox else _special_use_key(info.special_use),
                "is_sent": bool(sent and info.name == sent.name),
                "excluded_by_default": info.excluded_by_default,
                "present": True,
            }
            if info.is_inbox:
                values["sync_enabled"] = True  # always (boxes synced before folders were listed included)
            folder = existing.get(info.name)
            if folder:
                folder.write(values)
            else:
                Folder.create({**values, "account_id": self.id, "name": info.name, "sync_enabled": info.default_synced})
        for name, folder in existing.items():
            if name not in seen and folder.present:
                folder.write({"present": False, "is_sent": False})
        self.sudo().folders_listed_date = fields.Datetime.now()

    def action_refresh_folders(self):
        """« Actualiser les dossiers »: read the server's folder list (LIST) so that the managers can choose."""
        self.ensure_one()
        self.check_access("read")
        self._check_manage()
        account = self.sudo()
        try:
            settings = account._imap_settings()
            self._check_owner_host_policy(settings)
            infos = imap_folders.fetch_folders(account._with_oauth_token(settings, "IMAP"))
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown to the user in French
            raise UserError(account._sync_error_message(exc)) from exc
        account._update_folders(infos)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Folders"),
                "message": self.env._("%(count)s folder(s) found on the server.", count=len(infos)),
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _sent_folder(self):
        return self.sudo().folder_ids.filtered(lambda f: f.is_sent and f.present)[:1]

    def _sync_error_message(self, exc):
        """French reason of a failed sync, saying what really failed: the mail server or Odoo's side."""
        if isinstance(exc, UserError):  # already a French explanation (e.g. a host the owner may not reach)
            return str(exc)
        account = self.with_context(lang=(self.owner_id or self.env.user).lang or self.env.lang)
        if not _is_server_error(exc):
            # Not the mail server: the database (lock, constraint...) or a bug while storing.
            _logger.warning("Synchronization of %s failed while storing", self.email, exc_info=True)
            kind = account.env._("database error") if isinstance(exc, psycopg2.Error) else type(exc).__name__
            return account.env._(
                "The emails could not be stored in Odoo (%(kind)s): %(error)s",
                kind=kind,
                error=" ".join(str(exc).split())[:300],
            )
        code = connection.classify_error(exc)
        if code == connection.PROTOCOL:
            _logger.warning("Synchronization of %s failed", self.email, exc_info=True)
        else:
            _logger.info("Synchronization of %s failed: %s", self.email, exc)
        settings = self.sudo()._imap_settings()
        # Stored text: in the language of the account's owner (the cron has none).
        return account._failure_message("IMAP", settings, connection.CheckResult(code, str(exc)))

    def _record_failure(self, error, login_refused=False):
        count = self.sync_error_count + 1
        values = {
            "sync_state": "error",
            "sync_error_message": error,
            "sync_error_date": fields.Datetime.now(),
            "sync_error_count": count,
        }
        if login_refused:
            refusals = self.sync_auth_failure_count + 1
            values["sync_auth_failure_count"] = refusals
            values["sync_retry_date"] = fields.Datetime.now() + login_backoff(refusals)
        self.write(values)
        if count == FAILURES_BEFORE_NOTICE:
            self._notify_sync_failures(error)
        self._commit()

    def _reset_login_backoff(self):
        """A new password or a successful test: the next scheduled run tries again."""
        self.filtered("sync_retry_date").write({"sync_retry_date": False, "sync_auth_failure_count": 0})

    def _notify_sync_failures(self, error):
        """Tell the owner (personal box) or the admins (shared box) that sync keeps failing."""
        if self.category == "personal" and self.owner_id:
            partners = self.owner_id.partner_id
        else:
            partners = self.env.ref("comunik_mail.group_comunik_mail_admin").sudo().all_user_ids.partner_id
        self.sudo().message_notify(
            partner_ids=partners.ids,
            subject=self.env._("Synchronization of %s keeps failing", self.email),
            body=self.env._(
                "The last %(count)s synchronizations of %(email)s failed:\n%(error)s",
                count=FAILURES_BEFORE_NOTICE,
                email=self.email,
                error=error,
            ),
        )


def claim_box_id(registry, pass_start, interval, skip_ids=()):
    """Take the next due box of a pass: its id, or None when none is left.

    Due: automatic sync on, no login backoff running, not tried since the pass began nor in the last
    ``interval`` seconds (by any worker: a job starting after another's pass does not poll the same boxes
    again). The row is locked ``FOR UPDATE SKIP LOCKED`` while its attempt date is stamped, in a cursor of its
    own committed at once: two workers never take the same box, and none waits for another. The sync itself
    is still guarded by the box's advisory lock (a button or API sync may hold it).
    """
    for attempt in range(CLAIM_RETRIES):
        try:
            with registry.cursor() as cr:
                cr.execute(CLAIM_QUERY, [pass_start, interval, list(skip_ids)], log_exceptions=False)
                row = cr.fetchone()
            return row[0] if row else None
        except psycopg2.extensions.TransactionRollbackError:
            # Odoo's cursors are REPEATABLE READ: a box another worker claimed since our snapshot is a
            # serialization failure, not a skipped row. A new transaction sees it stamped, so it is skipped.
            time.sleep(0.01 * (attempt + 1))
    return None


class SyncWorker:
    """One pass of a sync job, run by one or several threads: each claims a due box, syncs it in a cursor of
    its own, and goes on until no box is due or the job's time is up. It holds no cursor between boxes (a
    thread costs one database connection while it syncs), and shares nothing but read-only values."""

    def __init__(self, accounts, pass_start, interval, deadline):
        self.registry = accounts.env.registry
        self.dbname = accounts.env.cr.dbname
        self.uid = accounts.env.uid
        self.context = dict(accounts.env.context)
        self.model = accounts._name
        self.pass_start = pass_start
        self.interval = interval
        self.deadline = deadline

    def name_thread(self):
        """Odoo's log lines and query counters read these from the current thread."""
        thread = threading.current_thread()
        thread.dbname = self.dbname
        thread.uid = self.uid

    def run(self):
        """:return: (ids of the boxes claimed, whether some box or the pass was cut short by the deadline)"""
        claimed, more = [], False
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return claimed, True
            account_id = claim_box_id(self.registry, self.pass_start, self.interval, claimed)
            if not account_id:
                return claimed, more
            claimed.append(account_id)
            try:
                with self.registry.cursor() as cr:
                    account = api.Environment(cr, self.uid, self.context)[self.model].browse(account_id)
                    more |= account._sync_in_cursor(time_budget=remaining, claimed=True)["more"]
            except Exception:  # noqa: BLE001 - one broken account must never stop the others
                _logger.exception("Synchronization of box %s failed unexpectedly", account_id)


def _special_use_key(special_use):
    """``\\Sent`` -> ``sent`` (comunik.mail.folder.special_use)."""
    return special_use.lstrip("\\").lower() if special_use else False


def _inbox_use(name):
    return "inbox" if name.upper() == "INBOX" else False


def oauth_kind(auth_method, provider):
    """Odoo's OAuth kind ("gmail" / "outlook") of a box signing in with Google or Microsoft, else False."""
    return OAUTH_KINDS.get(provider, False) if auth_method == "oauth" else False


def login_backoff(refusals):
    """Wait before the next automatic try after ``refusals`` refused logins in a row (doubling, capped)."""
    return min(LOGIN_BACKOFF_FIRST * (2 ** min(max(refusals - 1, 0), 16)), LOGIN_BACKOFF_MAX)


def cron_time_budget():
    """Seconds one cron run may sync: Odoo's cron time limit (``limit_time_real_cron``, else
    ``limit_time_real``) minus a margin; never below a minute's worth of work when there is no limit."""
    limit = config.get("limit_time_real_cron")
    if limit is None or limit < 0:  # -1: the same limit as HTTP workers
        limit = config.get("limit_time_real") or 0
    if limit <= 0:
        return 240.0
    return max(float(limit) - CRON_MARGIN, float(limit) / 2)


def _is_server_error(exc):
    """True for failures of the IMAP connection (network, TLS, protocol), False for Odoo's own."""
    if isinstance(exc, OSError | imaplib.IMAP4.error | EOFError):
        return True
    return type(exc).__module__.split(".")[0] in ("imapclient", "imaplib", "ssl", "socket")


#: Special-use top-level domains (RFC 2606, 6761): no MX to ask the DNS for.
RESERVED_TLDS = ("test", "example", "invalid", "localhost", "local")


def _mx_lookup(domain):
    if domain.rsplit(".", 1)[-1] in RESERVED_TLDS:
        return []
    return providers.lookup_mx(domain)


def _assigns(commands):
    """Whether many2many commands give the box any department or dispatcher (a copy's empty
    ``[(6, 0, [])]`` or a clearing command assigns nothing)."""
    for command in commands or ():
        if isinstance(command, list | tuple) and (
            command[0] == 5 or (command[0] == 6 and not command[2]) or command[0] == 3
        ):
            continue
        return True
    return False
