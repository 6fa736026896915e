from lxml import etree

from odoo.tests import tagged

from .common import ComunikMailCase


@tagged("post_install", "-at_install")
class TestAccountFrench(ComunikMailCase):
    """With fr_FR loaded, the form, list and menus read as in the user guide."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.Account = cls.env["comunik.mail.account"].with_context(lang="fr_FR")

    def view_texts(self, view_type):
        arch = self.Account.get_views([(False, view_type)])["views"][view_type]["arch"]
        root = etree.fromstring(arch)
        texts = set()
        for node in root.iter():
            texts.update(node.get(attr) for attr in ("string", "title", "placeholder") if node.get(attr))
            if node.text and node.text.strip():
                texts.add(node.text.strip())
        return texts

    def test_field_labels_and_selections(self):
        fields = self.Account.fields_get(
            ["sync_period", "category", "create_lead", "smtp_same_credentials", "department_ids", "dispatcher_ids"]
        )
        self.assertEqual(fields["sync_period"]["string"], "Période de synchronisation")
        self.assertEqual(dict(fields["sync_period"]["selection"]), {"today": "Aujourd'hui", "week": "Il y a 1 semaine"})
        self.assertEqual(dict(fields["category"]["selection"]), {"shared": "Partagé", "personal": "Personnel"})
        self.assertEqual(fields["create_lead"]["string"], "Création d'un enregistrement de piste")
        self.assertEqual(
            fields["smtp_same_credentials"]["string"],
            "Utiliser le même nom d'utilisateur et mot de passe que pour le courrier entrant (IMAP)",
        )
        self.assertEqual(fields["department_ids"]["string"], "Départements")
        self.assertEqual(fields["dispatcher_ids"]["string"], "Dispatcheurs")

    def test_form_reads_french(self):
        texts = self.view_texts("form")
        for expected in (
            "Paramètres IMAP (Courrier entrant)",
            "Paramètres SMTP (Courrier sortant)",
            "Nom d'hôte",
            "Chiffrement",
            "Nom d'utilisateur",
            "Mot de passe",
        ):
            self.assertIn(expected, texts)

    def test_list_and_menu_read_french(self):
        texts = self.view_texts("list")
        self.assertIn("Comptes Email", texts)
        self.assertIn("Tester la connexion", texts)
        menu = self.env.ref("comunik_mail.menu_comunik_mail_account").with_context(lang="fr_FR")
        self.assertEqual(menu.name, "Comptes Email")
        self.assertEqual(menu.parent_id.name, "Configuration")
        selection = dict(self.Account.fields_get(["validity_state"])["validity_state"]["selection"])
        self.assertEqual(selection, {"untested": "Non testé", "valid": "Valide", "invalid": "Invalide"})
