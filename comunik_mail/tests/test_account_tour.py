import dataclasses
from unittest.mock import patch

from odoo.tests import HttpCase, new_test_user, tagged

from .common import IMAPS_PORT, SMTPS_PORT, use_real_servers

#: Ports the tour types (the servers' default ones); COMUNIK_TEST_PORT_OFFSET moves the real servers.
TOUR_PORTS = {19993: IMAPS_PORT, 19465: SMTPS_PORT}

TOUR_EMAIL = "support-tour@example.test"
TOUR_PASSWORD = "Tour-S3cret"


@tagged("post_install", "-at_install")
class TestAccountTour(HttpCase):
    """In French, an admin creates a shared account, tests it, saves it and sees it valid."""

    def test_admin_creates_shared_account(self):
        dovecot, smtp = use_real_servers()
        dovecot.add_user(TOUR_EMAIL, TOUR_PASSWORD)
        smtp.add_user(TOUR_EMAIL, TOUR_PASSWORD)
        self.env["res.lang"]._activate_lang("fr_FR")
        new_test_user(
            self.env,
            "cmk_tour_admin",
            groups="base.group_user,comunik_mail.group_comunik_mail_admin",
            lang="fr_FR",
            name="Adèle Admin",
        )
        Account = type(self.env["comunik.mail.account"])

        def shifted(method):
            def settings(account):
                value = method(account)
                return dataclasses.replace(value, port=TOUR_PORTS.get(value.port, value.port))

            return settings

        with (
            patch.object(Account, "_imap_settings", shifted(Account._imap_settings)),
            patch.object(Account, "_smtp_settings", shifted(Account._smtp_settings)),
        ):
            self.start_tour("/odoo", "comunik_mail_account_tour", login="cmk_tour_admin")
        account = self.env["comunik.mail.account"].search([("email", "=", TOUR_EMAIL)])
        self.assertEqual(account.category, "shared")
        self.assertEqual(account.validity_state, "valid")
        self.assertEqual(account.fetchmail_server_id.password, TOUR_PASSWORD)
