from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ComunikSyncCase


def build_email(
    subject,
    sender="Claire Dupont <claire.dupont@client-dupont.example>",
    to="support@example.test",
    date=None,
    message_id=None,
    in_reply_to=None,
    references=(),
    body="Bonjour,\n\nMerci.",
    attachment=None,
):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="client-dupont.example")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    msg.set_content(body)
    if attachment:
        name, content, maintype, subtype = attachment
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    # Headers unfolded, as mail clients write them: folding would RFC 2047-encode Odoo's long Message-IDs in
    # In-Reply-To, which no client does (the reply would then thread on References only).
    return msg["Message-ID"], msg.as_bytes(policy=policy.default.clone(max_line_length=None))


@tagged("post_install", "-at_install")
class TestSync(ComunikSyncCase):
    """Synchronization against the real Dovecot: exactly once, nothing changed on the server."""

    def setUp(self):
        super().setUp()
        self.account = self.create_account(user=self.owner)
        self.login = self.account.email
        self.Conversation = self.env["comunik.mail.conversation"]

    def append(self, raw, flags=(), days_ago=0):
        date = datetime.now(UTC) - timedelta(days=days_ago)
        return self.dovecot.append(self.login, raw, flags=flags, date=date)

    def sync(self, account=None, **kwargs):
        return (account or self.account).sudo()._sync(**kwargs)

    def stored(self, account=None):
        return self.env["mail.message"].search([("comunik_account_id", "=", (account or self.account).id)])

    def test_period_today_vs_week(self):
        _id_old, old = build_email("Devis de la semaine dernière", date=datetime.now(UTC) - timedelta(days=3))
        _id_new, new = build_email("Demande d'aujourd'hui")
        self.append(old, days_ago=3)
        self.append(new)
        self.assertEqual(self.sync()["new"], 1)
        self.assertEqual(self.stored().mapped("subject"), ["Demande d'aujourd'hui"])

        weekly = self.create_account(user=self.owner, sync_period="week")
        for raw, days in ((old, 3), (new, 0)):
            self.dovecot.append(weekly.email, raw, date=datetime.now(UTC) - timedelta(days=days))
        self.assertEqual(self.sync(weekly)["new"], 2)

    def test_mail_seen_elsewhere_is_synced_and_flags_unchanged(self):
        self.append(build_email("Déjà lu dans le webmail")[1], flags=(r"\Seen",))
        self.append(build_email("Pas encore lu")[1])
        self.append(build_email("Important")[1], flags=(r"\Flagged",))
        before = self.dovecot.flags(self.login)
        result = self.sync()
        self.assertEqual((result["state"], result["new"]), ("ok", 3))
        self.assertEqual(self.dovecot.flags(self.login), before)
        self.assertEqual(len(self.Conversation.search([("account_id", "=", self.account.id)])), 3)

    def test_reply_threads_into_its_conversation(self):
        first_id, first = build_email("Facture n°2024-118 en double")
        reply_id, reply = build_email(
            "Re: Facture n°2024-118 en double", in_reply_to=first_id, references=[first_id], body="Toujours rien ?"
        )
        self.append(first)
        self.append(reply)
        self.sync()
        conversation = self.Conversation.search([("account_id", "=", self.account.id)])
        self.assertEqual(len(conversation), 1)
        self.assertEqual(conversation.subject, "Facture n°2024-118 en double")
        self.assertEqual(conversation.partner_id.email, "claire.dupont@client-dupont.example")
        self.assertEqual(conversation.message_count, 2)

        conversation.is_new = False
        _later_id, later = build_email("Re: Re: Facture", in_reply_to=reply_id, references=[first_id, reply_id])
        self.append(later)
        self.assertEqual(self.sync()["new"], 1)
        self.assertEqual(self.Conversation.search([("account_id", "=", self.account.id)]), conversation)
        self.assertEqual(conversation.message_count, 3)
        self.assertTrue(conversation.is_new, "a reply shows the conversation as new again")

    def test_resync_adds_nothing_and_turns_on_auto_sync(self):
        for index in range(5):
            self.append(build_email(f"Message {index}")[1])
        results = self.account.with_user(self.owner).sync_now()
        self.assertEqual(results[0]["new"], 5)
        self.assertEqual(results[0]["message_count"], 5)
        self.assertTrue(self.account.sync_enabled)
        self.assertEqual(self.account.sync_state, "ok")
        self.assertTrue(self.account.sync_date)
        self.assertEqual(self.account.with_user(self.owner).sync_now()[0]["new"], 0)
        self.assertEqual(len(self.stored()), 5)
        state = self.account.with_user(self.owner).get_sync_state()[0]
        self.assertEqual((state["state"], state["message_count"], state["error"]), ("ok", 5, False))

    def test_batches_commit_progress(self):
        uids = [self.append(build_email(f"Lot {index}")[1]) for index in range(7)]
        self.assertEqual(self.sync(batch_size=3)["new"], 7)
        folder = self.account.sudo()._sync_folder("INBOX")
        self.assertEqual(int(folder.last_uid), max(uids))
        self.assertTrue(folder.uidvalidity)

    def test_uidvalidity_change_adds_no_duplicates(self):
        raws = [build_email(f"Avant recréation {index}")[1] for index in range(3)]
        for raw in raws:
            self.append(raw)
        self.sync()
        old_validity = self.account.sudo()._sync_folder("INBOX").uidvalidity
        self.dovecot.remove_user(self.login)
        self.dovecot.add_user(self.login, "S3cret-pass")
        for raw in raws:
            self.append(raw)
        self.append(build_email("Nouveau après recréation")[1])
        self.assertEqual(self.sync()["new"], 1)
        self.assertEqual(len(self.stored()), 4)
        self.assertNotEqual(self.account.sudo()._sync_folder("INBOX").uidvalidity, old_validity)

    def test_malformed_and_non_ascii_messages_are_stored(self):
        latin = (
            b"From: =?iso-8859-1?Q?Ren=E9_L=E9ger?= <rene@boulangerie-leroy.example>\r\n"
            b"To: support@example.test\r\n"
            b"Subject: =?iso-8859-1?Q?R=E9clamation_=E0_traiter?=\r\n"
            b"Message-ID: <latin1@boulangerie-leroy.example>\r\n"
            b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\n"
        ) + "Bonjour, la livraison était incomplète.\r\n".encode("latin-1")
        garbage = b"\xff\xfe this is not an email \x01 at all"  # no NUL: IMAP servers cannot store it
        truncated = (
            b"From: a@b.example\r\nSubject: coupe\r\nMessage-ID: <cut@b.example>\r\n"
            b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\ndebut'
        )
        for raw in (latin, garbage, truncated):
            self.append(raw)
        self.assertEqual(self.sync()["new"], 3)
        messages = self.stored()
        self.assertEqual(len(messages), 3)
        latin_message = messages.filtered(lambda m: m.message_id == "<latin1@boulangerie-leroy.example>")
        self.assertEqual(latin_message.subject, "Réclamation à traiter")
        self.assertIn("était incomplète", latin_message.body)
        self.assertEqual(latin_message.author_id.name, "René Léger")
        broken = messages - latin_message - messages.filtered(lambda m: m.message_id == "<cut@b.example>")
        self.assertTrue(broken.attachment_ids, "the raw source of an unreadable email is kept")
        self.assertEqual(broken.attachment_ids[0].raw, garbage)

    def test_attachments_and_large_files(self):
        big = bytes(range(256)) * (11 * 4096)  # 11 MiB
        self.append(build_email("Plan du site", attachment=("plan-étage.pdf", big, "application", "pdf"))[1])
        self.append(
            build_email("Compte rendu", attachment=("winmail.dat", b"\x78\x9f\x3e\x22tnef", "application", "ms-tnef"))[
                1
            ]
        )
        self.sync()
        attachments = self.stored().attachment_ids
        self.assertEqual(sorted(attachments.mapped("name")), ["plan-étage.pdf", "winmail.dat"])
        pdf = attachments.filtered(lambda a: a.name == "plan-étage.pdf")
        self.assertEqual(pdf.file_size, len(big))
        self.assertEqual(pdf.res_model, "comunik.mail.conversation")

    def test_first_sync_sends_no_notifications(self):
        self.env["mail.followers"].search([]).filtered(lambda f: f.res_model == "comunik.mail.conversation").unlink()
        for index in range(4):
            self.append(build_email(f"Silencieux {index}")[1])
        notifications_before = self.env["mail.notification"].search_count([])
        mails_before = self.env["mail.mail"].search_count([])
        self.sync()
        self.assertEqual(self.env["mail.notification"].search_count([]), notifications_before)
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before)

    def test_wrong_password_sets_error_and_others_still_sync(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.owner.lang = "fr_FR"
        broken = self.create_account(user=self.owner)
        broken.sudo().write({"imap_password": "wrong", "sync_enabled": True})
        self.account.sudo().sync_enabled = True
        self.append(build_email("Arrive quand même")[1])
        self.env["comunik.mail.account"]._cron_sync()
        self.assertEqual(broken.sync_state, "error")
        self.assertIn("IMAP : authentification refusée", broken.sync_error_message, "in the owner's language")
        self.assertTrue(broken.sync_error_date)
        self.assertEqual(self.account.sync_state, "ok")
        self.assertEqual(len(self.stored()), 1)
        self.assertTrue(broken.sync_enabled, "no silent deactivation")

    def test_repeated_failures_notify_the_owner(self):
        self.account.sudo().imap_password = "wrong"
        notices = self.env["mail.message"].search_count([("model", "=", "comunik.mail.account")])
        for _attempt in range(3):
            self.assertEqual(self.sync()["state"], "error")
        self.assertEqual(self.account.sync_error_count, 3)
        notice = self.env["mail.message"].search(
            [("model", "=", "comunik.mail.account"), ("res_id", "=", self.account.id)], order="id desc", limit=1
        )
        self.assertGreater(self.env["mail.message"].search_count([("model", "=", "comunik.mail.account")]), notices)
        self.assertIn(self.owner.partner_id, notice.partner_ids)
        self.account.sudo().imap_password = "S3cret-pass"
        self.assertEqual(self.sync()["state"], "ok")
        self.assertEqual(self.account.sync_error_count, 0)

    def test_only_owner_and_admins_start_a_sync(self):
        with self.assertRaises(AccessError):
            self.account.with_user(self.other).sync_now()
        self.assertEqual(self.account.with_user(self.admin).sync_now()[0]["state"], "ok")
