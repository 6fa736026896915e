"""The ingestion pipeline end to end against Dovecot: poison emails never block a box, dates, period, isolation."""

from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import psycopg2

from odoo.tests import tagged

from comunik_support import poison

from ..models import comunik_mail_ingestion as ingestion
from ..models.comunik_mail_ingestion import ComunikMailIngestion
from ..services import imap_sync
from .common import ComunikSyncCase
from .test_sync import build_email


@tagged("post_install", "-at_install")
class TestIngestion(ComunikSyncCase):
    def setUp(self):
        super().setUp()
        self.account = self.create_account(user=self.owner)
        self.login = self.account.email

    def append(self, raw, hours_ago=0, days_ago=0):
        date = datetime.now(UTC) - timedelta(days=days_ago, hours=hours_ago)
        return self.dovecot.append(self.login, raw, date=date)

    def sync(self, **kwargs):
        return self.account.sudo()._sync(**kwargs)

    def stored(self):
        return self.env["mail.message"].search([("comunik_account_id", "=", self.account.id)])

    def subjects(self):
        return set(self.stored().mapped("subject"))

    def assert_poison_then_normal(self, raw, index):
        """The poison is stored (possibly degraded) or quarantined, and the normal email after it arrives."""
        poison_uid = self.append(raw)
        normal_uid = self.append(poison.normal_email(index))
        result = self.sync()
        self.assertEqual(result["state"], "ok", result["error"])
        self.assertIn(f"Demande {index}", self.subjects())
        folder = self.account.sudo()._sync_folder("INBOX")
        self.assertGreaterEqual(int(folder.last_uid), normal_uid)
        stored = self.stored().filtered(lambda m: int(m.comunik_uid) == poison_uid)
        quarantined = self.account.sudo().quarantine_ids.filtered(lambda q: int(q.uid) == poison_uid)
        self.assertTrue(stored or quarantined, "nothing lost")
        return stored

    # ------------------------------------------------------------------ specific poisons

    def test_date_year_9999(self):
        raw = dict((kind, factory) for kind, _d, factory in poison.POISON_EMAILS)["date-year-9999"]()
        message = self.assert_poison_then_normal(raw, 1)
        self.assertFalse(message.comunik_degraded, "a normal email with an absurd date")
        self.assertLess(message.date, datetime.now() + timedelta(days=2))
        self.assertFalse(message.comunik_sender_date, "an absurd sender date is not shown")
        conversation = self.env["comunik.mail.conversation"].browse(message.res_id)
        self.account.sudo().response_delay = 4
        conversation.invalidate_recordset()
        self.assertLess(conversation.deadline, datetime.now() + timedelta(days=2))

    def test_message_id_of_4000_characters(self):
        raw = dict((kind, factory) for kind, _d, factory in poison.POISON_EMAILS)["id-folded-4000"]()
        message = self.assert_poison_then_normal(raw, 2)
        self.assertLessEqual(len(message.message_id), 255)
        self.assertFalse(message.comunik_degraded)

    def test_20000_tiny_parts(self):
        raw = dict((kind, factory) for kind, _d, factory in poison.POISON_EMAILS)["parts-20000"]()
        message = self.assert_poison_then_normal(raw, 3)
        self.assertIn("message-original.eml", message.attachment_ids.mapped("name"))

    def test_every_poison_email(self):
        """Each poison followed by a normal email: everything arrives, nothing is blocked, nothing twice."""
        kinds = [(kind, factory) for kind, _d, factory in poison.POISON_EMAILS if kind != "empty"]
        uids, kind_of = [], {}
        for index, (kind, factory) in enumerate(kinds, start=100):
            raw = factory()
            uid = self.append(raw)
            uids.append(uid)
            kind_of[uid] = kind
            uids.append(self.append(poison.normal_email(index)))
        result = self.sync()
        self.assertEqual(result["state"], "ok", result["error"])
        for index in range(100, 100 + len(kinds)):
            self.assertIn(f"Demande {index}", self.subjects())
        stored = self.stored()
        stored_uids = [int(uid) for uid in stored.mapped("comunik_uid")]
        quarantined = [int(uid) for uid in self.account.sudo().quarantine_ids.mapped("uid")]
        self.assertEqual(len(stored_uids + quarantined), len(set(stored_uids + quarantined)), "nothing twice")
        # Not stored: only true duplicates (same id, same identity headers and body as a stored email).
        stored_digests = set(stored.mapped("comunik_content_digest"))
        missing = sorted(set(uids) - set(stored_uids) - set(quarantined))
        with imap_sync.ImapFolderReader(self.account.sudo()._imap_settings()) as reader:
            served = {item.uid: item for batch in reader.fetch(missing) for item in batch}  # the server's copy
        for uid in missing:
            digest = ingestion._digest(served[uid])
            self.assertIn(digest, stored_digests, f"{kind_of.get(uid)} lost")
        self.assertEqual(int(self.account.sudo()._sync_folder("INBOX").last_uid), max(uids))
        self.assertEqual(self.sync()["new"], 0)

    # ------------------------------------------------------------------ isolation

    def test_failing_email_is_stored_degraded_and_sync_moves_on(self):
        original = ComunikMailIngestion._create_messages

        def failing(self_, account, folder, emails, *args, **kwargs):
            if not kwargs.get("degraded_reason") and any(e.parsed.subject == "BOUM" for e in emails):
                raise ValueError("panne simulée")
            return original(self_, account, folder, emails, *args, **kwargs)

        for index in range(4):
            self.append(build_email(f"Avant {index}")[1])
        self.append(build_email("BOUM")[1])
        for index in range(4):
            self.append(build_email(f"Après {index}")[1])
        with patch.object(ComunikMailIngestion, "_create_messages", failing):
            result = self.sync()
        self.assertEqual((result["state"], result["new"]), ("ok", 9))
        degraded = self.stored().filtered("comunik_degraded")
        self.assertEqual(degraded.subject, "BOUM")
        self.assertIn("panne simulée", degraded.sudo().comunik_degraded_reason)
        self.assertIn("message-original.eml", degraded.attachment_ids.mapped("name"))
        conversation = self.env["comunik.mail.conversation"].browse(degraded.res_id)
        self.assertIn("panne simulée", conversation.sudo().receive_error)
        self.assertEqual(len(self.stored()), 9)

    def test_unstorable_email_goes_to_quarantine_and_retry(self):
        def always_failing(*args, **kwargs):
            raise ValueError("irrécupérable")

        self.append(build_email("Normal 1")[1])
        bad_uid = self.append(build_email("Inenregistrable")[1])
        self.append(build_email("Normal 2")[1])
        with (
            patch.object(ComunikMailIngestion, "_ingest_batch", always_failing),
            patch.object(ComunikMailIngestion, "_store_degraded", always_failing),
        ):
            result = self.sync()
        self.assertEqual(result["state"], "ok")
        quarantine = self.account.sudo().quarantine_ids
        self.assertEqual(len(quarantine), 3)
        self.assertIn(bad_uid, [int(uid) for uid in quarantine.mapped("uid")])
        self.assertEqual(self.account.with_user(self.owner).quarantine_count, 3)
        self.assertEqual(
            int(self.account.sudo()._sync_folder("INBOX").last_uid), bad_uid + 1, "never blocks later mail"
        )
        # « Réessayer » once the cause is gone: stored, rows gone.
        quarantine.with_user(self.owner).action_retry()
        self.assertFalse(self.account.sudo().quarantine_ids)
        self.assertEqual(self.subjects(), {"Normal 1", "Inenregistrable", "Normal 2"})

    def test_database_error_is_reported_as_such(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.owner.lang = "fr_FR"
        self.append(build_email("Un email")[1])

        def broken(*args, **kwargs):
            raise psycopg2.errors.SerializationFailure("could not serialize access")

        with patch.object(ComunikMailIngestion, "_ingest", broken):
            result = self.sync()
        self.assertEqual(result["state"], "error")
        self.assertNotIn("inattendue", result["error"])
        self.assertIn("Odoo", result["error"])
        self.assertIn("base de données", result["error"])

    def test_transient_database_error_is_retried_not_degraded(self):
        self.append(build_email("Verrou")[1])

        def locked(*args, **kwargs):
            raise psycopg2.errors.LockNotAvailable("canceling statement due to lock timeout")

        with patch.object(ComunikMailIngestion, "_create_messages", locked):
            self.assertEqual(self.sync()["state"], "error")
        self.assertFalse(self.stored(), "nothing stored degraded for a lock")
        self.assertFalse(self.account.sudo().quarantine_ids)
        self.assertEqual(self.sync()["new"], 1, "the next sync takes it")
        self.assertFalse(self.stored().comunik_degraded)

    # ------------------------------------------------------------------ dates

    def test_receive_date_orders_and_sender_date_is_shown(self):
        sender_date = datetime.now(UTC) - timedelta(days=30)
        first_id, first = build_email("Commande 42", date=sender_date)
        _reply_id, reply = build_email(
            "Re: Commande 42", in_reply_to=first_id, references=[first_id], date=sender_date - timedelta(days=1)
        )
        # Hours ago can be yesterday (just after midnight): the week's period keeps the test independent of the hour.
        self.account.sudo().sync_period = "week"
        self.append(first, hours_ago=2)
        self.append(reply, hours_ago=1)
        self.sync()
        conversation = self.env["comunik.mail.conversation"].search([("account_id", "=", self.account.id)])
        self.assertEqual(len(conversation), 1)
        messages = self.stored().sorted("date")
        self.assertEqual(messages.mapped("subject"), ["Commande 42", "Re: Commande 42"])
        self.assertEqual(conversation.date_first, messages[0].date)
        self.assertEqual(conversation.date_last, messages[1].date, "« Dernier message » is the reply")
        self.assertAlmostEqual(conversation.date_first, datetime.now() - timedelta(hours=2), delta=timedelta(minutes=5))
        self.assertEqual(conversation.sender_date, sender_date.replace(tzinfo=None, microsecond=0))
        self.assertEqual(messages[0].comunik_sender_date, sender_date.replace(tzinfo=None, microsecond=0))

    # ------------------------------------------------------------------ period

    def test_empty_first_sync_never_fetches_older_mail(self):
        self.append(build_email("Ancien, hors période")[1], days_ago=3)
        self.assertEqual(self.sync()["new"], 0)
        self.append(build_email("Nouveau")[1])
        self.assertEqual(self.sync()["new"], 1)
        self.assertEqual(self.subjects(), {"Nouveau"})

    def test_empty_rescan_never_fetches_older_mail(self):
        self.append(build_email("Avant")[1])
        self.sync()
        self.dovecot.remove_user(self.login)
        self.dovecot.add_user(self.login, "S3cret-pass")
        self.append(build_email("Ancien après recréation")[1], days_ago=3)
        self.assertEqual(self.sync()["new"], 0)
        self.append(build_email("Nouveau après recréation")[1])
        self.assertEqual(self.sync()["new"], 1)
        self.assertEqual(self.subjects(), {"Avant", "Nouveau après recréation"})

    # ------------------------------------------------------------------ dedupe

    def test_same_message_id_different_content_is_its_own_email(self):
        self.append(poison.normal_email(0))
        self.append(poison.normal_email(0, message_id=poison.DUPLICATE_ID, body="Un tout autre message."))
        with patch.object(ingestion._logger, "info", wraps=ingestion._logger.info) as info:
            self.assertEqual(self.sync()["new"], 2)
        self.assertTrue(any("reuses the Message-ID" in call.args[0] for call in info.call_args_list), "logged")
        self.assertEqual(len(set(self.stored().mapped("message_id"))), 2)
        self.assertEqual(self.sync()["new"], 0)

    # ------------------------------------------------------------------ cron

    def test_cron_resets_killed_runs_and_serves_the_oldest_attempt_first(self):
        other = self.create_account(user=self.owner)
        self.account.sudo().write({"sync_enabled": True, "sync_state": "running"})
        other.sudo().write({"sync_enabled": True})
        self.env.flush_all()
        order = []
        Account = type(self.env["comunik.mail.account"])
        original = Account._sync

        def recording(account, **kwargs):
            order.append(account.id)
            return original(account, **kwargs)

        with patch.object(Account, "_sync", recording):
            self.env["comunik.mail.account"]._cron_sync()
            self.assertEqual(self.account.sync_state, "ok", "a killed run's box is not left running")
            first = list(order)
            order.clear()
            self.env["comunik.mail.account"]._cron_sync()
        self.assertEqual(order[: len(first)], first, "attempt dates keep a stable round robin")
        self.assertTrue(self.account.sync_attempt_date)

    def test_cron_budget_fits_odoo_limit(self):
        from odoo.tools import config

        from ..models.comunik_mail_account import CRON_MARGIN, cron_time_budget

        def options(values):
            return patch.object(config, "get", lambda key, default=None: values.get(key, default))

        with options({"limit_time_real_cron": 120, "limit_time_real": 60}):
            self.assertEqual(cron_time_budget(), 120 - CRON_MARGIN)
        with options({"limit_time_real_cron": -1, "limit_time_real": 120}):
            self.assertEqual(cron_time_budget(), 120 - CRON_MARGIN)
