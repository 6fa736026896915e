import json
import uuid
from datetime import datetime, timedelta

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import HOST, IMAPS_PORT, SMTPS_PORT, use_real_servers


@tagged("post_install", "-at_install")
class TestJson2Api(HttpCase):
    """The README's automation API, as integrators use it: JSON-2 with an API key, on real mailboxes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dovecot, cls.smtp = use_real_servers(cls.env)
        user_groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        cls.admin = new_test_user(
            cls.env, "cmk_json2_admin", groups="base.group_user,comunik_mail.group_comunik_mail_admin"
        )
        cls.owner = new_test_user(cls.env, "cmk_json2_owner", groups=user_groups)
        cls.member = new_test_user(cls.env, "cmk_json2_member", groups=user_groups)
        department = cls.env["hr.department"].create({"name": "JSON-2 support"})
        cls.env["hr.employee"].create({"name": "Member", "user_id": cls.member.id, "department_id": department.id})
        cls.shared = cls.create_account(cls.admin, category="shared", department_ids=[(6, 0, department.ids)])
        cls.personal = cls.create_account(cls.owner)
        expiry = datetime.now() + timedelta(days=1)
        cls.keys = {
            user: cls.env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "json2 test", expiry)
            for user in (cls.admin, cls.owner, cls.member)
        }

    @classmethod
    def create_account(cls, user, **values):
        """A personal box of ``user`` (or whatever ``values`` say) on a fresh Dovecot mailbox."""
        login, password = f"json2-{uuid.uuid4().hex[:10]}@example.test", "S3cret-pass"
        cls.dovecot.add_user(login, password)
        cls.smtp.add_user(login, password)
        vals = {
            "email": login,
            "imap_host": HOST,
            "imap_port": IMAPS_PORT,
            "imap_encryption": "ssl",
            "imap_user": login,
            "imap_password": password,
            "smtp_host": HOST,
            "smtp_port": SMTPS_PORT,
            "smtp_encryption": "ssl",
            **values,
        }
        return cls.env["comunik.mail.account"].with_user(user).create(vals)

    def call(self, key, method, **payload):
        return self.url_open(
            f"/json/2/comunik.mail.account/{method}",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json", "Authorization": f"bearer {key}"},
            timeout=60,
        )

    def test_admin_searches_accounts_and_reads_sync_state(self):
        response = self.call(
            self.keys[self.admin], "search_read", domain=[["email", "=", self.shared.email]], fields=["email"]
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual([row["id"] for row in response.json()], self.shared.ids)
        response = self.call(self.keys[self.admin], "get_sync_state", ids=self.shared.ids)
        self.assertEqual(response.status_code, 200, response.text)
        state = response.json()[0]
        self.assertEqual((state["id"], state["email"], state["state"]), (self.shared.id, self.shared.email, "never"))

    def test_admin_syncs_shared_box(self):
        """sync_now on a real (empty) mailbox: the documented result, then the state says ok."""
        response = self.call(self.keys[self.admin], "sync_now", ids=self.shared.ids)
        self.assertEqual(response.status_code, 200, response.text)
        result = response.json()[0]
        self.assertEqual(
            (result["id"], result["state"], result["new"], result["error"]), (self.shared.id, "ok", 0, False)
        )
        response = self.call(self.keys[self.admin], "get_sync_state", ids=self.shared.ids)
        self.assertEqual(response.json()[0]["state"], "ok", response.text)

    def test_owner_reads_sync_state_of_own_box_only(self):
        response = self.call(self.keys[self.owner], "get_sync_state", ids=self.personal.ids)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()[0]["email"], self.personal.email)
        with mute_logger("odoo.http"):
            response = self.call(self.keys[self.owner], "get_sync_state", ids=self.shared.ids)
        self.assertEqual(response.json()["name"], "odoo.exceptions.AccessError", response.text)

    @mute_logger("odoo.http")
    def test_member_cannot_sync_shared_box_nor_read_its_passwords(self):
        before = self.shared.read(["sync_state", "sync_enabled", "sync_date"])
        response = self.call(self.keys[self.member], "sync_now", ids=self.shared.ids)
        self.assertEqual(response.json()["name"], "odoo.exceptions.AccessError", response.text)
        self.shared.invalidate_recordset()
        self.assertEqual(self.shared.read(["sync_state", "sync_enabled", "sync_date"]), before)
        response = self.call(
            self.keys[self.member], "read", ids=self.shared.ids, fields=["email", "imap_password", "smtp_password"]
        )
        self.assertEqual(response.status_code, 200, response.text)
        values = response.json()[0]
        self.assertEqual(values["email"], self.shared.email)
        self.assertFalse(values["imap_password"])
        self.assertFalse(values["smtp_password"])

    @mute_logger("odoo.http")
    def test_wrong_key_is_refused(self):
        response = self.call("not-a-key", "search_read", domain=[], fields=["email"])
        self.assertEqual(response.status_code, 401, response.text)
