from odoo.tests import HttpCase, new_test_user, tagged

from .common import HOST, IMAPS_PORT, SMTPS_PORT, use_real_servers


@tagged("post_install", "-at_install")
class TestAccountEditTour(HttpCase):
    """In French, through the form: the owner of a personal box and an Email admin who is not a Settings
    admin change host and ports of their boxes (the settings live on servers neither has rights on)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        use_real_servers(cls.env, allowed_hosts=f"{HOST}, localhost")
        cls.env["res.lang"]._activate_lang("fr_FR")
        user_groups = "base.group_user,comunik_mail.group_comunik_mail_user"
        cls.owner = new_test_user(cls.env, "cmk_edit_owner", groups=user_groups, lang="fr_FR", name="Odile")
        cls.admin = new_test_user(
            cls.env,
            "cmk_edit_admin",
            groups="base.group_user,comunik_mail.group_comunik_mail_admin",
            lang="fr_FR",
            name="Adèle",
        )

    def _box(self, email, user, **values):
        return (
            self.env["comunik.mail.account"]
            .with_user(user)
            .create(
                {
                    "email": email,
                    "imap_host": HOST,
                    "imap_port": IMAPS_PORT,
                    "imap_password": "pw",
                    "smtp_host": HOST,
                    "smtp_port": SMTPS_PORT,
                    **values,
                }
            )
        )

    def assertSettings(self, account):
        account.invalidate_recordset()
        self.assertEqual(account.sudo().fetchmail_server_id.server, "localhost")
        self.assertEqual(account.sudo().fetchmail_server_id.port, 995)
        self.assertEqual(account.sudo().mail_server_id.smtp_port, 587)
        self.assertEqual(account.sudo().fetchmail_server_id.password, "pw", "the password is kept")

    def test_owner_edits_personal_box(self):
        box = self._box("perso-tour@example.test", self.owner)
        self.start_tour("/odoo", "comunik_mail_owner_edits_box_tour", login="cmk_edit_owner")
        self.assertSettings(box)

    def test_email_admin_edits_shared_box(self):
        self.assertFalse(self.admin.has_group("base.group_system"))
        box = self._box("partage-tour@example.test", self.admin, category="shared")
        self.start_tour("/odoo", "comunik_mail_admin_edits_box_tour", login="cmk_edit_admin")
        self.assertSettings(box)
