import json
import logging
import threading
import time
from datetime import datetime, timedelta

import requests

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME

_logger = logging.getLogger(__name__)

CONVERSATION = "comunik.mail.conversation"
ACTIVITY = "comunik.mail.conversation.activity"


@tagged("post_install", "-at_install")
class TestCollisionTour(HttpCase):
    """In French: Paul Durand sees, in the inbox and in the conversation, that Julie Martin is viewing it, then
    replying, then viewing another one: live, through the bus. Julie's reply lands while Paul writes his in the
    chatter: sending asks him first (« Envoyer quand même »).

    Julie Martin is a second client of the server, over JSON-2 (a thread of this test). She waits, by reading the
    viewers like any client, until the server has recorded Paul's own activity (his form is open, then his list is
    shown again) before announcing hers: each tour step waits for a DOM state, never for a delay."""

    def test_collision_indicator(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        paul = new_test_user(self.env, "cmk_collision_paul", groups=groups, lang="fr_FR", name="Paul Durand")
        julie = new_test_user(self.env, "cmk_collision_julie", groups=groups, lang="fr_FR", name="Julie Martin")
        department = self.env["hr.department"].create({"name": "Support collisions"})
        self.env["hr.employee"].create(
            [{"name": user.name, "user_id": user.id, "department_id": department.id} for user in (paul, julie)]
        )
        account = self.env["comunik.mail.account"].create(
            {
                "email": "collisions-tour@example.test",
                "category": "shared",
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
                "department_ids": [(6, 0, department.ids)],
            }
        )
        customer = self.env["res.partner"].create({"name": "Claire Dupont", "email": "claire.dupont@example.test"})
        now = datetime.now()
        parcel, quote = self.env[CONVERSATION].create(
            [
                {
                    "account_id": account.id,
                    "subject": subject,
                    "partner_id": customer.id,
                    "email_from": customer.email,
                    "date_first": date,
                    "date_last": date,
                }
                for subject, date in (("Colis non reçu", now), ("Demande de devis", now - timedelta(minutes=5)))
            ]
        )
        paul.comunik_primary_account_id = account
        # Julie is on « Colis non reçu » before Paul opens his inbox.
        parcel.with_user(julie).comunik_set_activity("viewing")
        key = self.env["res.users.apikeys"].with_user(julie).sudo()._generate("rpc", "tour", now + timedelta(days=1))

        # Julie's requests start once Paul's browser session exists (the test cursor is then only used through
        # the server, one request at a time) and carry the running browser's test cookie.
        logged_in = threading.Event()
        authenticate = self.authenticate

        def authenticate_then_signal(*args, **kwargs):
            result = authenticate(*args, **kwargs)
            logged_in.set()
            return result

        self.patch(self, "authenticate", authenticate_then_signal)
        julie_client = JulieClient(
            self.base_url(), key, lambda: logged_in.is_set() and self.http_request_key, paul.id, parcel.id, quote.id
        )
        julie_client.start()
        try:
            self.start_tour(
                "/odoo/action-comunik_mail.action_comunik_mail_conversation",
                "comunik_mail_collision_tour",
                login="cmk_collision_paul",
            )
        finally:
            julie_client.stop()
        self.assertEqual(julie_client.errors, [])
        self.assertEqual(
            julie_client.done,
            ["replying on parcel", "replied on parcel", "replied again on parcel", "viewing on quote"],
        )
        self.env.invalidate_all()
        rows = self.env[ACTIVITY].search([("conversation_id", "in", (parcel | quote).ids)])
        self.assertEqual(
            sorted((row.user_id.name, row.conversation_id.subject, row.activity) for row in rows),
            [
                ("Julie Martin", "Colis non reçu", "replying"),
                ("Julie Martin", "Demande de devis", "viewing"),
                ("Paul Durand", "Demande de devis", "viewing"),  # the tour's own signal
            ],
            "Paul left the form: his activity there is gone",
        )
        # The send guard let Paul's replies (chatter, « Répondre à tous ») through once he confirmed, after Julie's.
        replies = self.env["mail.message"].search(
            [("model", "=", CONVERSATION), ("res_id", "=", parcel.id), ("message_type", "=", "comment")], order="id"
        )
        self.assertEqual(
            [(message.author_id, message.subtype_id.internal) for message in replies[-4:]],
            [(julie.partner_id, False), (paul.partner_id, False)] * 2,
        )
        self.assertIn("je m'en occupe", replies[-3].body)
        self.assertIn("Je confirme l'envoi du colis", replies[-1].body, "« Répondre à tous », confirmed")


class JulieClient(threading.Thread):
    """The second user, as a JSON-2 client: waits for Paul's activity, then announces hers (and keeps it alive
    with a heartbeat, as the web client does)."""

    def __init__(self, base_url, key, test_cookie, paul_id, parcel_id, quote_id):
        super().__init__(daemon=True)
        self.base_url, self.key, self.test_cookie = base_url, key, test_cookie
        self.paul_id, self.parcel_id, self.quote_id = paul_id, parcel_id, quote_id
        self.errors, self.done = [], []
        self.stopping = threading.Event()
        self.mine = {self.parcel_id: "viewing"}

    def call(self, model, method, **payload):
        response = requests.post(
            f"{self.base_url}/json/2/{model}/{method}",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json", "Authorization": f"bearer {self.key}"},
            cookies={TEST_CURSOR_COOKIE_NAME: self.test_cookie()},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def paul_on(self, conversation_id, activity=None):
        domain = [["conversation_id", "=", conversation_id], ["user_id", "=", self.paul_id]]
        if activity:
            domain.append(["activity", "=", activity])
        return bool(self.call(ACTIVITY, "search_read", domain=domain, fields=["activity"]))

    def announce(self, conversation_id, activity):
        self.mine[conversation_id] = activity
        self.call(CONVERSATION, "comunik_set_activity", ids=[conversation_id], activity=activity)

    def wait_for(self, condition, timeout=120, beat=True):
        deadline = time.monotonic() + timeout
        last_beat = time.monotonic()
        while not self.stopping.is_set():
            if condition():
                return True
            if beat and time.monotonic() - last_beat > 20:  # heartbeat: Julie's screens stay open
                for conversation_id, activity in self.mine.items():
                    try:
                        self.announce(conversation_id, activity)
                    except requests.RequestException as exc:  # best effort: the tour may be over already
                        _logger.info("Julie's heartbeat not served: %s", exc)
                last_beat = time.monotonic()
            if time.monotonic() > deadline:
                raise TimeoutError("Paul's activity never reached the server")
            self.stopping.wait(0.3)
        return False

    def run(self):
        try:
            # Requests are served once the browser runs (logged in, its test cookie set).
            if not self.wait_for(self.test_cookie, beat=False):
                return
            # Paul's form is open on « Colis non reçu »: Julie starts replying to it.
            if not self.wait_for(lambda: self.paul_on(self.parcel_id)):
                return
            self.announce(self.parcel_id, "replying")
            self.done.append("replying on parcel")
            # Paul starts his own reply in the chatter: Julie sends hers first, and is back to viewing.
            if not self.wait_for(lambda: self.paul_on(self.parcel_id, "replying")):
                return
            self.call(
                CONVERSATION,
                "message_post",
                ids=[self.parcel_id],
                body="<p>Je viens de répondre au client.</p>",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            self.announce(self.parcel_id, "viewing")
            self.done.append("replied on parcel")
            # Paul writes in « Répondre à tous » and says so (the tour's own signal, on the other conversation):
            # Julie answers the customer again before him, and keeps writing.
            if not self.wait_for(lambda: self.paul_on(self.quote_id, "replying")):
                return
            self.call(
                CONVERSATION,
                "message_post",
                ids=[self.parcel_id],
                body="<p>Le client a rappelé, c'est réglé.</p>",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            self.announce(self.parcel_id, "replying")
            self.done.append("replied again on parcel")
            # Paul is back on his list and says so (the tour's own call): Julie opens « Demande de devis ».
            if not self.wait_for(lambda: self.paul_on(self.quote_id, "viewing")):
                return
            self.announce(self.quote_id, "viewing")
            self.done.append("viewing on quote")  # and no more requests: the tour ends on this
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(repr(exc))

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)
