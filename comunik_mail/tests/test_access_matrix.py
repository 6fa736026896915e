import inspect
import json
import logging
import time
from datetime import datetime, timedelta

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..models.comunik_mail_account import CONNECTION_FIELDS
from . import access_matrix as am
from .common import unused_port

_logger = logging.getLogger(__name__)

REFUSALS = {
    "odoo.exceptions.AccessError",
    "odoo.exceptions.UserError",
    "odoo.exceptions.ValidationError",
    "odoo.exceptions.MissingError",
}
#: Calls that answer a refusal with an empty result as well (record rules filter, they do not raise).
READ_LIKE = {"read", "search_read", "web_read", "web_search_read", "web_read_group"}
#: Written values the test does not read back: the SMTP login follows IMAP's while smtp_same_credentials.
UNCHECKED_STORAGE = {"smtp_user", "smtp_password"}
S_SECRETS = ("127.0.0.2", "127.0.0.3", "s-imap-user@matrix.test", "S-imap-secret", "s-smtp-user", "S-smtp-secret")
GROUPS = {
    "portal": "base.group_portal",
    "internal": "base.group_user",
    "email_user": "comunik_mail.group_comunik_mail_user",
    "member": "comunik_mail.group_comunik_mail_user,sales_team.group_sale_salesman_all_leads",
    "dispatcher": "comunik_mail.group_comunik_mail_user",
    "owner": "comunik_mail.group_comunik_mail_user",
    "email_admin": "comunik_mail.group_comunik_mail_admin",
    "settings_admin": "base.group_system,comunik_mail.group_comunik_mail_admin,"
    "sales_team.group_sale_salesman_all_leads",
}
#: Digest of what the API could damage: every table of the addon (models and relations) and the
#: rows of Odoo's tables it points to or extends.
DIGEST_QUERIES = {
    "fetchmail_server": "SELECT t::text FROM fetchmail_server t",
    "ir_mail_server": "SELECT t::text FROM ir_mail_server t",
    "mail_message": "SELECT t::text FROM mail_message t"
    " WHERE comunik_account_id IS NOT NULL OR model LIKE 'comunik.%%'",
    "mail_followers": "SELECT t::text FROM mail_followers t WHERE res_model LIKE 'comunik.%%'",
    "res_users": "SELECT ROW(id, comunik_primary_account_id)::text FROM res_users",
    "crm_lead": "SELECT t::text FROM crm_lead t",
    "hr_department": "SELECT ROW(id, resource_calendar_id)::text FROM hr_department",
    "mail_template": "SELECT t::text FROM mail_template t WHERE comunik_template_id IS NOT NULL",
    "sms_template": "SELECT t::text FROM sms_template t WHERE comunik_template_id IS NOT NULL",
}


@tagged("post_install", "-at_install")
class TestAccessMatrix(HttpCase):
    """Every classified cell of ``access_matrix`` called as every role over JSON-2 (no mail server:
    boxes point at closed loopback ports, network methods are only called for roles that must be refused)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.users = {
            role: new_test_user(env, f"cmk_matrix_{role}", groups=groups, name=f"Matrix {role}")
            for role, groups in GROUPS.items()
        }
        cls.spare = new_test_user(env, "cmk_matrix_spare", groups="base.group_user", name="Matrix spare")
        departments = env["hr.department"].create([{"name": "Matrix support"}, {"name": "Matrix sales"}])
        env["hr.employee"].create(
            {"name": "Matrix member", "user_id": cls.users["member"].id, "department_id": departments[0].id}
        )
        # Loopback hosts (closed ports) are allowed for everybody here: the matrix tests rights, not host policy.
        env["ir.config_parameter"].set_param("comunik_mail.allowed_private_hosts", "127.0.0.0/8")
        env["ir.config_parameter"].set_param("comunik_mail.connection_timeout", "1")
        port = unused_port()
        Account = env[am.ACCOUNT]
        shared = Account.create(
            {
                "email": "shared@matrix.test",
                "category": "shared",
                "department_ids": [(6, 0, departments[0].ids)],
                "dispatcher_ids": [(6, 0, cls.users["dispatcher"].ids)],
                "imap_host": "127.0.0.2",
                "imap_port": port,
                "imap_user": "s-imap-user@matrix.test",
                "imap_password": "S-imap-secret",
                "smtp_host": "127.0.0.3",
                "smtp_port": port,
                "smtp_same_credentials": False,
                "smtp_user": "s-smtp-user",
                "smtp_password": "S-smtp-secret",
            }
        )
        personal = Account.create(
            {
                "email": "owner@matrix.test",
                "category": "personal",
                "owner_id": cls.users["owner"].id,
                "imap_host": "127.0.0.4",
                "imap_port": port,
                "imap_user": "owner@matrix.test",
                "imap_password": "P-imap-secret",
                "smtp_host": "127.0.0.4",
                "smtp_port": port,
            }
        )
        # fS is a folder the managers may choose to synchronize (INBOX always is).
        folders = env[am.FOLDER].create([{"account_id": shared.id, "name": "Factures"}, {"account_id": personal.id}])
        partner = env["res.partner"].create({"name": "Matrix customer", "email": "customer@matrix.test"})
        leads = env["crm.lead"].create([{"name": "Matrix lead"}, {"name": "Matrix lead 2"}])
        now = datetime.now().replace(microsecond=0)
        conversations = env[am.CONVERSATION].create(
            [
                {
                    "account_id": box.id,
                    "subject": f"Matrix {box.email}",
                    "partner_id": partner.id,
                    "email_from": partner.email,
                    "date_first": now,
                    "date_last": now,
                }
                for box in (shared, personal)
            ]
        )
        conversations[0].write(
            {
                "lead_id": leads[0].id,
                "state": "assigned",
                "user_id": cls.users["member"].id,
                "last_user_id": cls.users["member"].id,
            }
        )
        # Merge cells: cS2 / cP2 to merge, cS3 / cP3 already merged into cS / cP (to undo); S's worked by the member.
        # Quietly (no followers): write cells pick the newest records of a model as values to link.
        others = (
            env[am.CONVERSATION]
            .with_context(tracking_disable=True, mail_create_nosubscribe=True)
            .create(
                [
                    {
                        "account_id": box.id,
                        "subject": f"Matrix {box.email} {index}",
                        "partner_id": partner.id,
                        "email_from": partner.email,
                        "date_first": now,
                        "date_last": now,
                        **({"state": "assigned", "user_id": cls.users["member"].id} if box == shared else {}),
                    }
                    for index in (2, 3)
                    for box in (shared, personal)
                ]
            )
        )
        conversations[0]._merge_from(others[2])
        conversations[1]._merge_from(others[3])
        message = env["mail.message"].create(
            {
                "model": am.CONVERSATION,
                "res_id": conversations[0].id,
                "message_type": "email",
                "body": "Bonjour",
                "message_id": "<matrix-1@matrix.test>",
                "comunik_account_id": shared.id,
                "comunik_folder_id": folders[0].id,
                "comunik_uid": 1,
                "incoming_email_to": "label@matrix.test",
            }
        )
        # cS's second email, so that mS can be split from it.
        env["mail.message"].create(
            {
                "model": am.CONVERSATION,
                "res_id": conversations[0].id,
                "message_type": "email",
                "body": "Relance",
                "message_id": "<matrix-2@matrix.test>",
                "comunik_account_id": shared.id,
                "comunik_folder_id": folders[0].id,
                "comunik_uid": 2,
            }
        )
        label = env[am.LABEL].create({"name": "Matrix label", "recipient_emails": "label@matrix.test"})
        env[am.LABEL].create({"name": "Matrix label 2"})
        template_folders = env[am.TEMPLATE_FOLDER].create([{"name": "Matrix folder"}, {"name": "Matrix folder 2"}])
        Template = env[am.TEMPLATE]
        published = Template.create(
            {
                "name": "Matrix",
                "internal_name": "matrix_pub",
                "folder_id": template_folders[0].id,
                "subject": "Bonjour {{fullname}}",
                "body_html": "<p>Bonjour {{fullname}}</p>",
                "body_text": "Bonjour",
            }
        )
        draft = Template.create(
            {"name": "Matrix draft", "internal_name": "matrix_draft", "subject": "Brouillon", "body_html": "<p>B</p>"}
        )
        sms = Template.create(
            {"name": "Matrix SMS", "internal_name": "matrix_sms", "template_type": "sms", "body_text": "Bonjour"}
        )
        (published | sms).action_publish()
        cls.banners = {role: env[am.BANNER].create({"user_id": user.id}).id for role, user in cls.users.items()}
        cls.wizards = {
            role: env[am.WIZARD]
            .with_user(user)
            .sudo()
            .create({"conversation_ids": [(6, 0, conversations[0].ids)], "user_id": cls.users["member"].id})
            .id
            for role, user in cls.users.items()
        }
        cls.merge_wizards = {
            role: env[am.MERGE_WIZARD]
            .with_user(user)
            .sudo()
            .create(
                {"conversation_ids": [(6, 0, (conversations[0] | others[0]).ids)], "target_id": conversations[0].id}
            )
            .id
            for role, user in cls.users.items()
        }
        cls.composes = {
            role: env[am.COMPOSE]
            .with_user(user)
            .sudo()
            .create(
                {
                    "mode": "new",
                    "account_id": shared.id,
                    "partner_to_ids": [(6, 0, partner.ids)],
                    "subject": "Matrix compose",
                    "body": "<p>Matrix</p>",
                }
            )
            .id
            for role, user in cls.users.items()
        }
        cls.snoozes = {
            role: env[am.SNOOZE].with_user(user).sudo().create({"conversation_ids": [(6, 0, conversations[0].ids)]}).id
            for role, user in cls.users.items()
        }
        cls.users["member"].comunik_primary_account_id = shared
        cls.users["owner"].comunik_primary_account_id = personal
        cls.records = {
            "S": shared.id,
            "P": personal.id,
            "cS": conversations[0].id,
            "cP": conversations[1].id,
            "cS2": others[0].id,
            "cP2": others[1].id,
            "mgS": env[am.MERGE].search([("source_id", "=", others[2].id)]).id,
            "fS": folders[0].id,
            "stS": env[am.STATISTICS].search([("conversation_id", "=", conversations[0].id)]).id,
            "mS": message.id,
            "L": label.id,
            "F": template_folders[0].id,
            "Tpub": published.id,
            "Tdraft": draft.id,
            "smtpP": personal.mail_server_id.id,
            "log": env[am.LOG].create({"user_id": cls.users["owner"].id, "account_id": personal.id, "host": "x"}).id,
            "scS": env[am.SENT_COPY].create({"account_id": shared.id, "message_id": "<matrix@x>", "raw": "eA=="}).id,
            "qP": env[am.QUARANTINE]
            .create({"account_id": personal.id, "folder_id": folders[1].id, "uidvalidity": "7", "uid": 3})
            .id,
            "mtpub": published.with_context(active_test=False).mail_template_ids[:1].id,
            "stpub": sms.sms_template_ids[:1].id,
            "lead": leads[0].id,
            "D": departments[0].id,
            "mbS": env[am.MEMBER].create({"account_id": shared.id, "user_id": cls.users["member"].id}).id,
            "aS": env[am.ACTIVITY]
            .create(
                {"conversation_id": conversations[0].id, "user_id": cls.users["dispatcher"].id, "activity": "viewing"}
            )
            .id,
            "mcS": env["mail.compose.message"]
            .with_user(cls.spare)
            .sudo()
            .create(
                {
                    "composition_mode": "comment",
                    "model": am.CONVERSATION,
                    "res_ids": str(conversations[0].ids),
                    "body": "<p>Matrix</p>",
                    "comunik_seen_message_id": message.id,
                }
            )
            .id,
        }
        # A line of P, so that a write of S's lines has another line to link.
        env[am.MEMBER].create({"account_id": personal.id, "user_id": cls.users["owner"].id, "capacity": 2})
        expiry = datetime.now() + timedelta(days=1)
        cls.keys = {
            role: env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "matrix", expiry)
            for role, user in cls.users.items()
        }
        env.flush_all()

    # ------------------------------------------------------------------ helpers

    def rpc(self, role, model, method, ids=(), context=None, **kwargs):
        """POST /json/2/<model>/<method> with the role's API key: (outcome, body)."""
        payload = {"ids": list(ids), "context": context or {}, **kwargs}
        response = self.url_open(
            f"/json/2/{model}/{method}",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json", "Authorization": f"bearer {self.keys[role]}"},
            timeout=30,
        )
        try:
            body = response.json()
        except ValueError:
            body = response.text[:300]
        if response.status_code == 200:
            return "ok", body
        name = body.get("name") if isinstance(body, dict) else None
        if name in REFUSALS:
            return "refused", body
        return f"error {response.status_code}", body

    def digest(self):
        """md5 per table of everything the API could damage, in one query (HttpCase shares the server's cursor)."""
        self.env.flush_all()
        cr = self.env.cr
        if not hasattr(type(self), "_digest_sql"):
            cr.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                " AND table_type = 'BASE TABLE' AND table_name LIKE 'comunik%%' ORDER BY table_name"
            )
            queries = {table: f"SELECT t::text FROM {table} t" for (table,) in cr.fetchall()}  # noqa: S608
            queries.update(DIGEST_QUERIES)
            type(self)._digest_sql = " UNION ALL ".join(
                f"SELECT '{table}', (SELECT md5(coalesce(string_agg(r, '|' ORDER BY r), '')) FROM ({query}) AS q(r))"
                for table, query in sorted(queries.items())
            )
        cr.execute(self._digest_sql)
        return dict(cr.fetchall())

    def target_id(self, role, model, key):
        if key == "own":
            if model == am.COMPOSE:
                return self.composes[role]
            if model == am.SNOOZE:
                return self.snoozes[role]
            if model == am.MERGE_WIZARD:
                return self.merge_wizards[role]
            return self.banners[role] if model == am.BANNER else self.wizards[role]
        if key == "other":
            if model == am.BANNER:
                return self.banners["member" if role == "owner" else "owner"]
            return self.users["owner" if role == "member" else "member"].id
        if key == "self":
            return self.users[role].id
        return self.records[key]

    def call_isolated(self, role, model, method, ids=(), context=None, written=None, **kwargs):
        """One call, undone afterwards (every cell starts from the same data): (outcome, body, changed tables).

        ``written``: for a write, report "not stored" when the call succeeds but the value did not land."""
        self.env.flush_all()
        self.env.cr.execute("SAVEPOINT cmk_matrix_call")
        try:
            outcome, body = self.rpc(role, model, method, ids, context, **kwargs)
            after = self.digest()
            changed = sorted(table for table, value in after.items() if self.initial.get(table) != value)
            if outcome == "ok" and written and not self.stored(model, ids[0], *written):
                outcome = "ok, value not stored"
        finally:
            self.env.cr.execute("ROLLBACK TO SAVEPOINT cmk_matrix_call")
            self.env.cr.execute("RELEASE SAVEPOINT cmk_matrix_call")
            self.env.invalidate_all()
        return outcome, body, changed

    def stored(self, model, record_id, fname, value):
        """Whether ``value`` (as sent in a write) is what the record now holds, as the superuser sees it."""
        self.env.invalidate_all()
        record = self.env[model].with_context(active_test=False).browse(record_id)
        field = record._fields[fname]
        if fname in UNCHECKED_STORAGE or field.type == "one2many":  # a relinked line may leave the o2m's domain
            return True
        current = record[fname]
        if field.type == "many2one":
            return current.id == value
        if field.type in ("one2many", "many2many"):
            return value[0][1] in current.ids
        if field.type in ("date", "datetime", "html"):
            return bool(current)
        return current == value

    def check(self, cell, role, expected, outcome, body, changed, read_like=False, noop_ok=False):
        """None if the observed behaviour matches the policy, else a line for the report.

        ``read_like``: an empty answer (rows filtered out) counts as refused; ``noop_ok``: so does a success
        that changed nothing."""
        rows = body.get("records", body.get("groups")) if isinstance(body, dict) else body
        empty = outcome == "ok" and ((read_like and not rows) or (noop_ok and expected is False and not changed))
        if outcome.startswith("error"):
            problem = "crashed"
        elif outcome == "ok, value not stored":
            if not expected:
                return None  # the ORM dropped it (e.g. a recomputed parent_path): nothing to fear
            problem = "accepted but not stored"
        elif expected is True and (outcome != "ok" or empty):
            problem = "refused" if outcome != "ok" else "got nothing"
        elif expected is False and outcome == "ok" and not empty:
            problem = "ALLOWED, " + (("changed " + ", ".join(changed)) if changed else "nothing changed")
        elif outcome != "ok" and changed:
            problem = "refused but changed " + ", ".join(changed)
        elif expected is False and changed:
            problem = "changed " + ", ".join(changed)
        else:
            return None
        want = {True: "allowed", False: "refused", None: "either"}[expected]
        detail = body.get("message", "") if isinstance(body, dict) else body
        return f"{cell} as {role}: want {want}, {problem} ({outcome}: {str(detail)[:160]!r})"

    # ------------------------------------------------------------------ call arguments

    def method_args(self, role, model, method, key):
        """ids, context and kwargs of one method cell."""
        tid = self.target_id(role, model, key) if key else None
        member = self.users["member"].id
        model_level = {
            "search_read": {"domain": [["id", "=", tid]], "fields": ["display_name"]},
            "web_search_read": {"domain": [["id", "=", tid]], "specification": {"display_name": {}}},
            "web_read_group": {"domain": [["id", "=", tid]], "groupby": ["state"], "aggregates": ["__count"]},
            "onchange": {"values": {}, "field_names": [], "fields_spec": {"display_name": {}}},
            "mail_allowed_qweb_expressions": {},
            "action_open_inbox": {},
            "get_banner": {},
            "action_open_config": {},
            "get_placeholders": {},
        }
        if method in model_level:
            return [], {}, model_level[method]
        if method == "default_get":
            param = list(inspect.signature(getattr(type(self.env[model]), method)).parameters)[1]
            context = {"default_model": "crm.lead", "default_res_model": "crm.lead"}
            return [], context, {param: ["display_name"]}
        kwargs = {
            "read": {"fields": ["display_name"]},
            "web_read": {"specification": {"display_name": {}}},
            "copy": {"default": self.copy_default(model)},
            "sync_now": {"time_budget": 1},
            "action_assign": {} if model == am.WIZARD else {"user": member, "priority": "1"},
            "action_merge": {} if model == am.MERGE_WIZARD else {"target_id": self.records.get(f"{key}2")},
            "message_post": {"body": "Matrix", "message_type": "comment", "subtype_xmlid": "mail.mt_note"},
            "action_snooze": {"until": (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")},
            "comunik_set_activity": {"activity": "replying"},
            "comunik_newer_messages": {"seen_message_id": 1},
        }.get(method, {})
        return [tid], {}, kwargs

    def copy_default(self, model):
        return {
            am.ACCOUNT: {"email": "copy@matrix.test"},
            am.LABEL: {"name": "Matrix copy"},
            am.FOLDER: {"name": "Copy"},
            am.BANNER: {"user_id": self.spare.id},
            am.MEMBER: {"user_id": self.spare.id},
        }.get(model, {})

    def create_values(self, role, model, variant):
        port = unused_port()
        box = {
            "email": f"new-{role}@matrix.test",
            "imap_host": "127.0.0.9",  # loopback, closed port: never a connection
            "imap_port": port,
            "imap_user": "new",
            "imap_password": "new",
            "smtp_host": "127.0.0.9",
            "smtp_port": port,
        }
        return {
            "personal_self": {**box, "category": "personal"},
            "personal_other": {**box, "category": "personal", "owner_id": self.spare.id},
            "shared": {**box, "category": "shared"},
            "in_S": {"account_id": self.records["S"], "subject": "New"},
            "for_other": {"user_id": self.spare.id},
            "on_cS": {"conversation_ids": [[6, 0, [self.records["cS"]]]], "user_id": self.users["member"].id},
            "merge_on_cS": {
                "conversation_ids": [[6, 0, [self.records["cS"], self.records["cS2"]]]],
                "target_id": self.records["cS"],
            },
            "new_S": {"mode": "new", "account_id": self.records["S"], "subject": "New"},
            "new_P": {"mode": "new", "account_id": self.records["P"], "subject": "New"},
            "snooze_cS": {"conversation_ids": [[6, 0, [self.records["cS"]]]]},
        }.get(variant) or {
            am.LABEL: {"name": f"New {role}"},
            am.TEMPLATE: {"name": "New", "internal_name": f"new_{role}"},
            am.TEMPLATE_FOLDER: {"name": "New"},
            am.FOLDER: {"account_id": self.records["S"], "name": "Archive"},
            am.STATISTICS: {"state": "closed"},
            am.LOG: {"user_id": self.users[role].id, "host": "forged"},
            am.QUARANTINE: {"account_id": self.records["P"], "uid": 99},
            am.SENT_COPY: {"account_id": self.records["S"], "message_id": "<forged@x>"},
            am.MEMBER: {"account_id": self.records["S"], "user_id": self.spare.id, "capacity": 3},
            am.MERGE: {"source_id": self.records["cS2"], "target_id": self.records["cS"], "merge_date": "2031-01-02"},
            am.ACTIVITY: {"conversation_id": self.records["cS"], "user_id": self.users[role].id, "activity": "viewing"},
        }[model]

    def new_value(self, model, record_id, fname):
        """A valid value different from the current one, for a write cell."""
        record = self.env[model].with_context(active_test=False).browse(record_id)
        field = record._fields[fname]
        current = record[fname]
        special = {
            "recipient_emails": "other@matrix.test",
            "email": "changed@matrix.test",
            "imap_host": "127.0.0.8",
            "smtp_host": "127.0.0.8",
        }
        if fname in special:
            return special[fname]
        if (model, fname) == (am.MERGE_WIZARD, "target_id"):
            return self.records["cS2"]  # the other conversation of the wizard
        kind = field.type
        if kind == "boolean":
            return not current
        if kind == "char":
            return "matrix-value"
        if kind in ("text", "html"):
            return "matrix"
        if kind in ("integer", "float"):
            return (current or 0) + 7
        if kind == "selection":
            values = [value for value, _label in field._description_selection(self.env)]
            return next((value for value in values if value != current), values[0])
        if kind == "date":
            return "2031-01-02"
        if kind == "datetime":
            return "2031-01-02 03:04:05"
        if kind == "binary":
            return "bWF0cml4"  # base64 of "matrix"
        if field.comodel_name == "res.users":
            other = self.spare
        else:
            exclude = current.ids + ([record_id] if field.comodel_name == model else [])
            Comodel = self.env[field.comodel_name].with_context(active_test=False)
            other = Comodel.search([("id", "not in", exclude)], order="id desc", limit=1)
        if kind == "many2one":
            return other.id
        return [[4, other.id]]

    # ------------------------------------------------------------------ tests

    def test_01_classification_is_complete(self):
        """A public method or writable field the matrix does not classify fails here, named."""
        methods, fields = am.enumerate_api(self.env)
        _logger.info(
            "Access matrix: %d models, %d public methods (with CRUD), %d writable fields, %d roles",
            len({model for model, _name in methods | fields}),
            len(methods),
            len(fields),
            len(am.ROLES),
        )
        self.assertEqual(sorted(methods - set(am.METHODS)), [], "unclassified public methods")
        self.assertEqual(sorted(set(am.METHODS) - methods), [], "classified methods that no longer exist")
        self.assertEqual(sorted(fields - set(am.FIELDS)), [], "unclassified writable fields")
        self.assertEqual(sorted(set(am.FIELDS) - fields), [], "classified fields no longer writable")
        for (model, _method), policy in am.METHODS.items():
            if policy == "create":
                self.assertIn(model, am.CREATES)
            elif policy != "fields":
                self.assertIn(am.policy_of(policy)[0], am.PREDICATES)
        for model, _fname in am.FIELDS:
            self.assertIn(model, am.TARGETS, "write cells need a target record")

    @mute_logger("odoo.http", "odoo.sql_db")
    def test_02_matrix(self):
        """Every role x every cell, each call refused with nothing changed, or allowed as the role table says."""
        self.initial = self.digest()
        started, calls, skipped, failures = time.monotonic(), 0, 0, []
        for (model, method), entry in sorted(am.METHODS.items()):
            if entry == "fields":
                continue
            if entry == "create":
                for variant, predicate in am.CREATES[model]:
                    for role in am.ROLES:
                        expected = am.PREDICATES[predicate](role, variant)
                        values = self.create_values(role, model, variant)
                        result = self.call_isolated(role, model, "create", vals_list=[values])
                        calls += 1
                        failures.append(self.check(f"{model}.create[{variant}]", role, expected, *result))
                continue
            predicate, flags = am.policy_of(entry)
            for key in am.TARGETS.get(model, (None,)):
                for role in am.ROLES:
                    expected = am.PREDICATES[predicate](role, key)
                    if am.NETWORK in flags and expected:
                        skipped += 1
                        continue
                    ids, context, kwargs = self.method_args(role, model, method, key)
                    result = self.call_isolated(role, model, method, ids, context, **kwargs)
                    calls += 1
                    failures.append(
                        self.check(
                            f"{model}.{method}[{key}]",
                            role,
                            expected,
                            *result,
                            read_like=method in READ_LIKE,
                            noop_ok=am.NOOP_OK in flags,
                        )
                    )
        for (model, fname), predicate in sorted(am.FIELDS.items()):
            for key in am.TARGETS[model]:
                for role in am.ROLES:
                    expected = am.PREDICATES[predicate](role, key)
                    record_id = self.target_id(role, model, key)
                    vals = {fname: self.new_value(model, record_id, fname)}
                    result = self.call_isolated(
                        role, model, "write", [record_id], vals=vals, written=(fname, vals[fname])
                    )
                    calls += 1
                    failures.append(self.check(f"{model}.write({fname})[{key}]", role, expected, *result))
        failures = [failure for failure in failures if failure]
        _logger.info(
            "Access matrix: %d calls (%d network cells of allowed roles not exercised) in %.1f s, %d failing",
            calls,
            skipped,
            time.monotonic() - started,
            len(failures),
        )
        self.assertFalse(failures, "\n" + "\n".join(failures))

    # ------------------------------------------------------------------ read side

    def read_calls(self, role, model, record_id, fields):
        """The record's values as the role gets them through read, web_read and search_read (None: refused)."""
        results = {}
        for method, ids, kwargs in (
            ("read", [record_id], {"fields": list(fields)}),
            ("web_read", [record_id], {"specification": dict.fromkeys(fields, {})}),
            ("search_read", [], {"domain": [["id", "=", record_id]], "fields": list(fields)}),
        ):
            outcome, body = self.rpc(role, model, method, ids, **kwargs)
            self.assertIn(outcome, ("ok", "refused"), f"{model}.{method} as {role}: {body}")
            results[method] = body[0] if outcome == "ok" and body else None
        return results

    @mute_logger("odoo.http")
    def test_03_connection_fields_only_for_managers(self):
        """Readers who do not manage a box get no host, user, port or password; managers get them."""
        failures = []
        for role in am.ROLES:
            for box in ("S", "P"):
                sees, manages = role in am.SEES[box], role in am.MANAGES[box]
                if not sees:
                    continue
                for method, values in self.read_calls(role, am.ACCOUNT, self.records[box], CONNECTION_FIELDS).items():
                    if values is None:
                        failures.append(f"{method} of {box} as {role}: refused, but the role may read the box")
                        continue
                    shown = {name: values[name] for name in CONNECTION_FIELDS if values[name]}
                    if manages and not values["imap_password"]:
                        failures.append(f"{method} of {box} as {role} (manager): no imap_password")
                    elif not manages and shown:
                        failures.append(f"{method} of {box} as {role}: returned {shown}")
        self.assertFalse(failures, "\n" + "\n".join(failures))

    @mute_logger("odoo.http")
    def test_04_onchange_does_not_leak_other_servers(self):
        """A new account pointed at S's backing servers must not echo their settings, whoever asks."""
        shared = self.env[am.ACCOUNT].browse(self.records["S"])
        values = {"fetchmail_server_id": shared.fetchmail_server_id.id, "mail_server_id": shared.mail_server_id.id}
        spec = dict.fromkeys((*CONNECTION_FIELDS, "fetchmail_server_id", "mail_server_id", "email"), {})
        failures = []
        for role in am.ROLES:
            for field_names in (["fetchmail_server_id", "mail_server_id"], []):
                outcome, body = self.rpc(
                    role, am.ACCOUNT, "onchange", values=values, field_names=field_names, fields_spec=spec
                )
                self.assertIn(outcome, ("ok", "refused"), f"onchange as {role}: {body}")
                leaked = [secret for secret in S_SECRETS if secret in json.dumps(body)]
                if outcome == "ok" and leaked:
                    failures.append(f"onchange({field_names}) as {role}: returned {leaked}")
        self.assertFalse(failures, "\n" + "\n".join(failures))

    @mute_logger("odoo.http")
    def test_05_primary_account_of_others(self):
        """Another user's primary box is readable by Settings admins only."""
        failures = []
        for role in am.ROLES:
            other = self.users["owner" if role == "member" else "member"]
            for method, values in self.read_calls(role, "res.users", other.id, ["comunik_primary_account_id"]).items():
                value = values and values["comunik_primary_account_id"]
                if role == "settings_admin" and not value:
                    failures.append(f"{method} as {role}: primary box of {other.login} not returned")
                elif role != "settings_admin" and value:
                    failures.append(f"{method} as {role}: primary box of {other.login} returned: {value}")
        self.assertFalse(failures, "\n" + "\n".join(failures))
