from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import ComunikSyncCase
from .test_sync import build_email


@tagged("post_install", "-at_install")
class TestCronClaim(ComunikSyncCase):
    """The scheduled sync claims due boxes one at a time (SKIP LOCKED): each once a pass, oldest attempt first.

    Two real processes sharing the work are in tests_e2e/test_sync_processes.py.
    """

    def setUp(self):
        super().setUp()
        self.boxes = self.env["comunik.mail.account"]
        for _index in range(3):
            box = self.create_shared_account()
            box.sudo().sync_enabled = True
            self.dovecot.append(box.email, build_email("Bonjour", to=box.email)[1])
            self.boxes |= box
        self.Account = self.env["comunik.mail.account"]

    def mine(self, claimed):
        return [account_id for account_id in claimed if account_id in self.boxes.ids]

    def test_each_due_box_once_per_pass_oldest_attempt_first(self):
        old, older, never = self.boxes
        now = fields.Datetime.now()
        old.sudo().sync_attempt_date = now - timedelta(minutes=5)
        older.sudo().sync_attempt_date = now - timedelta(minutes=50)
        never.sudo().sync_attempt_date = False
        self.env.flush_all()
        self.assertEqual(self.mine(self.Account._cron_sync()), [never.id, older.id, old.id])
        self.assertEqual(self.boxes.mapped("sync_state"), ["ok"] * 3)
        self.assertTrue(all(box.sync_message_count == 1 for box in self.boxes))

    def test_poll_interval_and_backoff_are_respected(self):
        self.env["ir.config_parameter"].sudo().set_param("comunik_mail.sync_interval_seconds", "30")
        self.assertEqual(sorted(self.mine(self.Account._cron_sync())), sorted(self.boxes.ids))
        self.assertEqual(self.mine(self.Account._cron_sync()), [], "polled less than 30 s ago by a job")
        self.env["ir.config_parameter"].sudo().set_param("comunik_mail.sync_interval_seconds", "0")
        waiting, disabled, due = self.boxes
        waiting.sudo().sync_retry_date = fields.Datetime.now() + timedelta(minutes=5)
        disabled.sudo().sync_enabled = False
        self.env.flush_all()
        self.assertEqual(self.mine(self.Account._cron_sync()), [due.id])
