from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestOAuthTour(HttpCase):
    """French tour: choosing Microsoft 365 shows its sign-in button and hides password and servers."""

    def test_microsoft_provider_shows_sign_in(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        new_test_user(
            self.env,
            "cmk_oauth_tour",
            groups="base.group_user,comunik_mail.group_comunik_mail_admin",
            lang="fr_FR",
            name="Adèle Admin",
        )
        self.start_tour(
            "/odoo/action-comunik_mail.action_comunik_mail_account/new",
            "comunik_mail_oauth_provider_tour",
            login="cmk_oauth_tour",
        )
