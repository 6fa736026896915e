from datetime import UTC, datetime, timedelta
from email import message_from_bytes

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import ComunikSyncCase, unused_port
from .test_sync import build_email

CUSTOMER = "Claire Dupont <claire.dupont@client-dupont.example>"


@tagged("post_install", "-at_install")
class TestFolders(ComunikSyncCase):
    """Chosen folders (LIST with special-use) and the Sent folder both ways, against the real Dovecot and SMTP sink."""

    def setUp(self):
        super().setUp()
        self.shared = self.create_shared_account()
        self.shared.sudo().sync_period = "week"  # emails of hours ago are yesterday's just after midnight
        self.login = self.shared.email

    def sync(self, account=None):
        result = (account or self.shared).sudo()._sync()
        self.assertEqual(result["state"], "ok", result["error"])
        return result

    def folder(self, name, account=None):
        return (account or self.shared).sudo().folder_ids.filtered(lambda f: f.name == name)

    def conversations(self, account=None):
        return self.env["comunik.mail.conversation"].search([("account_id", "=", (account or self.shared).id)])

    def emails_of(self, conversation):
        return self.env["mail.message"].search(
            [("model", "=", conversation._name), ("res_id", "=", conversation.id), ("message_type", "=", "email")],
            order="date, id",
        )

    def outlook_reply(self, to_message_id, subject, minutes_later=30, body="Bonjour, c'est réglé."):
        """An answer written in Outlook on the same box: Outlook stores it in Sent, Odoo never saw it."""
        return build_email(
            subject,
            sender=f"Service client <{self.login}>",
            to=CUSTOMER,
            date=datetime.now(UTC) + timedelta(minutes=minutes_later),
            in_reply_to=to_message_id,
            references=[to_message_id] if to_message_id else (),
            body=body,
        )

    # ------------------------------------------------------------------ folder list and choice

    def test_first_sync_lists_folders_inbox_only_junk_and_trash_excluded(self):
        self.dovecot.create_folder(self.login, "Factures")
        self.dovecot.append(self.login, build_email("Dans Factures")[1], folder="Factures")
        self.dovecot.append(self.login, build_email("Pourriel")[1], folder="Junk")
        self.dovecot.append(self.login, build_email("Dans la boîte")[1])
        self.sync()
        folders = {folder.name: folder for folder in self.shared.sudo().folder_ids}
        self.assertLessEqual({"INBOX", "Sent", "Drafts", "Junk", "Trash", "Factures"}, set(folders))
        self.assertTrue(folders["INBOX"].sync_enabled)
        self.assertEqual(folders["INBOX"].display_name, "Inbox")
        self.assertTrue(folders["Sent"].is_sent)
        self.assertEqual(folders["Junk"].special_use, "junk")
        for name in ("Junk", "Trash", "Drafts"):
            self.assertTrue(folders[name].excluded_by_default, name)
        for name in ("Junk", "Trash", "Drafts", "Factures", "Sent"):
            self.assertFalse(folders[name].sync_enabled, name)
        self.assertEqual(self.conversations().mapped("subject"), ["Dans la boîte"])

    def test_chosen_folder_is_synced_and_conversations_remember_their_folder(self):
        self.dovecot.create_folder(self.login, "Clients/Réclamations")
        self.sync()
        self.shared.with_user(self.admin).action_refresh_folders()
        folder = self.folder("Clients/Réclamations")
        self.assertTrue(folder and not folder.sync_enabled)
        folder.with_user(self.admin).action_toggle_sync()
        self.assertTrue(folder.sync_enabled)
        self.dovecot.append(self.login, build_email("Réclamation colis")[1], folder="Clients/Réclamations")
        self.dovecot.append(self.login, build_email("Question simple")[1])
        self.dovecot.append(self.login, build_email("Spam")[1], folder="Junk")
        self.assertEqual(self.sync()["new"], 2)
        self.assertEqual(self.sync()["new"], 0, "each folder has its own watermark: nothing twice")
        claim = self.conversations().filtered(lambda c: c.subject == "Réclamation colis")
        self.assertEqual(claim.folder_id, folder)
        self.assertEqual(
            self.conversations().filtered(lambda c: c.subject == "Question simple").folder_id, self.folder("INBOX")
        )
        # The inbox filters by folder (as the search view does), as a member of the box.
        found = self.env["comunik.mail.conversation"].with_user(self.member).search([("folder_id", "=", folder.id)])
        self.assertEqual(found, claim)
        self.assertEqual(folder.with_user(self.member).read(["display_name"])[0]["display_name"], folder.name)
        # Stopping it: nothing more comes from there.
        folder.with_user(self.admin).action_toggle_sync()
        self.dovecot.append(self.login, build_email("Après l'arrêt")[1], folder="Clients/Réclamations")
        self.assertEqual(self.sync()["new"], 0)

    def test_only_managers_choose_folders(self):
        self.sync()
        trash = self.folder("Trash")
        for user in (self.member, self.dispatcher):
            with self.assertRaises(AccessError):
                trash.with_user(user).action_toggle_sync()
            with self.assertRaises(AccessError):
                self.shared.with_user(user).action_refresh_folders()
            with self.assertRaises(AccessError):
                trash.with_user(user).write({"sync_enabled": True})
        with self.assertRaises(AccessError):
            self.folder("INBOX").with_user(self.other).read(["name"])
        self.assertFalse(trash.sync_enabled)
        with self.assertRaises(UserError):
            self.folder("INBOX").with_user(self.admin).action_toggle_sync()
        with self.assertRaises(UserError):
            self.folder("Sent").with_user(self.admin).action_toggle_sync()
        # The owner of a personal box chooses its folders.
        personal = self.create_account(user=self.owner)
        self.sync(personal)
        junk = self.folder("Junk", personal)
        junk.with_user(self.owner).action_toggle_sync()
        self.assertTrue(junk.sync_enabled)
        with self.assertRaises(AccessError):
            junk.with_user(self.other).action_toggle_sync()

    def test_vanished_folder_is_reported_on_it_and_the_rest_keeps_syncing(self):
        self.dovecot.create_folder(self.login, "Archives 2026")
        self.sync()
        archives = self.folder("Archives 2026")
        archives.with_user(self.admin).action_toggle_sync()
        self.dovecot.delete_folder(self.login, "Archives 2026")
        self.dovecot.append(self.login, build_email("Toujours reçu")[1])
        self.assertEqual(self.sync()["new"], 1)
        self.assertIn("could not be opened", archives.sync_error)
        self.assertEqual(self.shared.sync_state, "ok")
        self.shared.with_user(self.admin).action_refresh_folders()
        self.assertFalse(archives.present)
        self.assertEqual(self.sync()["new"], 0)

    # ------------------------------------------------------------------ Sent: other clients' answers

    def test_answer_sent_from_outlook_joins_its_conversation_once_and_is_the_first_response(self):
        question_id, question = build_email("Commande CMD-31 en retard", to=self.login)
        self.dovecot.append(self.login, question, date=datetime.now(UTC) - timedelta(hours=3))
        self.sync()
        conversation = self.conversations()
        conversation.with_user(self.dispatcher).action_assign(self.member)
        self.assertFalse(conversation.first_response_date)

        _reply_id, reply = self.outlook_reply(question_id, "RE: Commande CMD-31 en retard")
        sent_at = datetime.now(UTC) - timedelta(hours=1)
        self.dovecot.append(self.login, reply, folder="Sent", flags=("\\Seen",), date=sent_at)
        self.assertEqual(self.sync()["new"], 1)
        self.assertEqual(self.sync()["new"], 0)
        self.assertEqual(self.conversations(), conversation, "no new conversation")
        emails = self.emails_of(conversation)
        self.assertEqual(emails.mapped("subject"), ["Commande CMD-31 en retard", "RE: Commande CMD-31 en retard"])
        self.assertEqual(emails.mapped("comunik_outgoing"), [False, True])
        self.assertIn(self.login, emails[1].email_from)
        self.assertEqual(conversation.state, "assigned", "an answer reopens or moves nothing")
        self.assertFalse(conversation.is_new)
        self.assertAlmostEqual(
            conversation.first_response_date, sent_at.replace(tzinfo=None), delta=timedelta(seconds=2)
        )
        self.assertAlmostEqual(conversation.first_response_hours, 2.0, delta=0.01)
        self.assertEqual(conversation.date_last, emails[1].date)
        stats = self.env["comunik.mail.statistics"].search([("conversation_id", "=", conversation.id)])
        self.assertAlmostEqual(stats.first_response_hours, 2.0, delta=0.01)

    def test_new_email_sent_from_a_phone_is_an_answered_conversation_that_the_reply_reopens(self):
        sent_id, sent = self.outlook_reply(None, "Votre devis", minutes_later=-60, body="Voici le devis.")
        self.dovecot.append(self.login, sent, folder="Sent", flags=("\\Seen",))
        self.sync()
        conversation = self.conversations()
        self.assertEqual(conversation.subject, "Votre devis")
        self.assertEqual(conversation.partner_id.email, "claire.dupont@client-dupont.example")
        self.assertEqual((conversation.state, conversation.is_new), ("closed", False))
        self.assertEqual(conversation.first_response_date, conversation.date_first)
        # The customer answers: back in the inbox, same conversation.
        _answer_id, answer = build_email("Re: Votre devis", to=self.login, in_reply_to=sent_id, references=[sent_id])
        self.dovecot.append(self.login, answer)
        self.sync()
        self.assertEqual(self.conversations(), conversation)
        self.assertEqual((conversation.state, conversation.is_new), ("unassigned", True))
        self.assertEqual(len(self.emails_of(conversation)), 2)

    # ------------------------------------------------------------------ Sent: Odoo's own sends

    def reply_from_odoo(self, conversation, body="<p>Bonjour, votre colis part aujourd'hui.</p>"):
        message = conversation.with_user(self.member).message_post(
            body=body,
            partner_ids=conversation.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)]).send()
        return message

    def test_reply_sent_from_odoo_is_copied_to_sent_read_and_never_synced_back(self):
        question_id, question = build_email("Facture FA-77", to=self.login)
        self.dovecot.append(self.login, question)
        self.sync()
        conversation = self.conversations()
        conversation.with_user(self.dispatcher).action_assign(self.member)
        self.send_for_real()
        message = self.reply_from_odoo(conversation)
        captured = self.smtp.wait_for(1)[-1]
        sent = self.dovecot.messages(self.login, "Sent")
        self.assertEqual(len(sent), 1)
        [(flags, raw)] = sent.values()
        self.assertEqual(flags, ("\\Seen",))
        copy = message_from_bytes(raw)
        self.assertEqual(copy["Message-Id"], message.message_id)
        self.assertEqual(copy["Message-Id"], message_from_bytes(captured["data"])["Message-Id"])
        self.assertEqual(copy["In-Reply-To"], question_id)
        self.assertIn(self.login, copy["From"])
        # The copy comes back with the next sync: recognized as Odoo's own, not stored twice.
        self.assertEqual(self.sync()["new"], 0)
        self.assertEqual(
            self.env["mail.message"].search_count([("message_id", "=", message.message_id)]), 1, "one copy in Odoo"
        )
        self.assertEqual(self.conversations(), conversation)

    def test_gmail_keeps_its_own_copy_no_append(self):
        gmail = self.create_shared_account(mail_provider="gmail")
        login = gmail.email
        self.assertFalse(gmail.sent_copy, "Gmail stores what its SMTP sends in Sent by itself")
        self.dovecot.append(login, build_email("Question Gmail", to=login)[1])
        self.sync(gmail)
        conversation = self.conversations(gmail)
        self.send_for_real()
        self.reply_from_odoo(conversation)
        self.smtp.wait_for(1)
        self.assertEqual(self.dovecot.count(login, "Sent"), 0)
        # A box whose server does not keep sent mail: managers switch the copy on.
        gmail.with_user(self.admin).sent_copy = True
        self.reply_from_odoo(conversation, "<p>Deuxième réponse.</p>")
        self.smtp.wait_for(2)
        self.assertEqual(self.dovecot.count(login, "Sent"), 1)
        with self.assertRaises(AccessError):
            self.shared.with_user(self.member).sent_copy = False

    def test_copy_refused_at_send_time_is_appended_by_the_next_sync(self):
        self.dovecot.append(self.login, build_email("Adresse de livraison", to=self.login)[1])
        self.sync()
        conversation = self.conversations()
        conversation.with_user(self.dispatcher).action_assign(self.member)
        imap = self.shared.sudo().fetchmail_server_id
        imap_port = imap.port
        imap.port = unused_port()  # IMAP down while SMTP works
        self.send_for_real()
        message = self.reply_from_odoo(conversation)
        self.smtp.wait_for(1)
        pending = self.env["comunik.mail.sent.copy"].search([("account_id", "=", self.shared.id)])
        self.assertEqual(pending.message_id, message.message_id)
        self.assertIn("dossier Envoyés", self.shared.message_ids[:1].body, "logged in French (the sender's language)")
        self.assertEqual(self.dovecot.count(self.login, "Sent"), 0)
        with self.assertRaises(AccessError):
            pending.with_user(self.member).read(["raw"])
        imap.port = imap_port
        self.assertEqual(self.sync()["new"], 0, "the copy appended is Odoo's own email: not stored again")
        self.assertFalse(pending.exists())
        [(flags, raw)] = self.dovecot.messages(self.login, "Sent").values()
        self.assertEqual(flags, ("\\Seen",))
        self.assertEqual(message_from_bytes(raw)["Message-Id"], message.message_id)
        self.assertEqual(self.env["mail.message"].search_count([("message_id", "=", message.message_id)]), 1)
