# Run inside `odoo-bin shell` by bin/run on a new database (``env`` is provided by the shell).
# ruff: noqa: F821
from datetime import timedelta

admin = env.ref("base.user_admin")
# The demo runs offline: no lead enrichment calls to Odoo's IAP servers.
enrich = env.ref("crm_iap_enrich.ir_cron_lead_enrichment", raise_if_not_found=False)
if enrich:
    enrich.active = False
support = env["hr.department"].create({"name": "Support client"})
sales = env["hr.department"].create({"name": "Commercial"})
employees = env["hr.employee"].create(
    [
        {"name": "Julie Martin", "department_id": support.id, "work_email": "julie.martin@demo.comunik.test"},
        {"name": "Thomas Petit", "department_id": support.id, "work_email": "thomas.petit@demo.comunik.test"},
        {"name": "Sophie Bernard", "department_id": sales.id, "work_email": "sophie.bernard@demo.comunik.test"},
    ]
)
# The demo mail servers listen on loopback: let the demo users (not only admins) reach them.
env["ir.config_parameter"].set_param("comunik_mail.allowed_private_hosts", "127.0.0.1")
common = {
    "imap_host": "127.0.0.1",
    "imap_port": 29993,
    "imap_encryption": "ssl",
    "imap_password": "demo",
    "smtp_host": "127.0.0.1",
    "smtp_port": 29465,
    "smtp_encryption": "ssl",
    "sync_period": "week",
}
accounts = env["comunik.mail.account"].create(
    [
        dict(
            common,
            email="support@demo.comunik.test",
            category="shared",
            department_ids=[(6, 0, support.ids)],
            dispatcher_ids=[(6, 0, admin.ids)],
        ),
        dict(
            common,
            email="commercial@demo.comunik.test",
            category="shared",
            create_lead=True,
            department_ids=[(6, 0, sales.ids)],
            dispatcher_ids=[(6, 0, admin.ids)],
        ),
        dict(common, email="julie.martin@demo.comunik.test", category="personal", owner_id=admin.id),
    ]
)
accounts[0].action_set_primary()
env["comunik.mail.label"].create(
    [
        {"name": "Support", "color": 4, "recipient_emails": "support@demo.comunik.test"},
        {"name": "Commercial", "color": 10, "recipient_emails": "commercial@demo.comunik.test"},
    ]
)
env.cr.commit()
for account in accounts:
    account.action_test_connection()
    env.cr.commit()  # the sync runs in its own transaction: it must see (and not wait for) this one
    result = account.sync_now()[0]
    print(f"{account.email}: {result['state']}, {result['new']} email(s)")
env.cr.commit()

# Templates (three published, one draft) to try in replies, and some team history for the statistics.
folders = env["comunik.mail.template.folder"].create([{"name": "Support"}, {"name": "Commercial"}])
Template = env["comunik.mail.template"]
Template.create(
    [
        {
            "name": "Accusé de réception",
            "internal_name": "support_accuse",
            "folder_id": folders[0].id,
            "subject": "Nous avons bien reçu votre demande",
            "body_html": "<p>Bonjour {{fullname}},</p><p>Nous avons bien reçu votre demande et revenons vers vous "
            "sous 24 h.</p><p>L'équipe support</p>",
        },
        {
            "name": "Relance devis",
            "internal_name": "commercial_relance",
            "folder_id": folders[1].id,
            "subject": "Votre devis {{company}}",
            "body_html": "<p>Bonjour {{fullname}},</p><p>Avez-vous pu consulter notre proposition pour "
            "{{company}} ?</p>",
        },
        {
            "name": "Rappel rendez-vous (SMS)",
            "internal_name": "sms_rdv",
            "folder_id": folders[1].id,
            "template_type": "sms",
            "body_text": "Bonjour {{fullname}}, nous vous rappelons votre rendez-vous de demain. COMUNIK",
        },
    ]
).action_publish()
Template.create(
    {
        "name": "Réponse type livraison",
        "internal_name": "support_livraison",
        "folder_id": folders[0].id,
        "subject": "Votre livraison",
        "body_html": "<p>Bonjour {{fullname}},</p>",
    }
)
shared = env["comunik.mail.conversation"].search([("category", "=", "shared")], order="date_first")
for index, conversation in enumerate(shared):
    if index % 4 == 0:
        continue  # left unassigned
    start = conversation.date_first
    values = {
        "user_id": admin.id,
        "is_new": False,
        "assign_date": start + timedelta(minutes=30),
        "first_response_date": start + timedelta(hours=1 + index % 5),
        "state": ("closed", "in_progress", "assigned")[index % 4 - 1],
    }
    if values["state"] == "closed":
        values["close_date"] = start + timedelta(hours=3 + 2 * (index % 6))
    conversation.sudo().write(values)
env.cr.commit()
