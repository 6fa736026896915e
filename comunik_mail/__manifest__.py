{
    "name": "Comunik Mail",
    "version": "19.0.1.0.0",
    "category": "Productivity/Discuss",
    "summary": "Boîtes mail personnelles et partagées synchronisées en IMAP, dispatch et statistiques",
    "author": "comunik_mail",
    "license": "LGPL-3",
    "depends": ["mail", "hr", "resource", "crm", "sms"],
    "external_dependencies": {"python": ["imapclient"]},
    "data": [
        "security/comunik_mail_security.xml",
        "security/ir.model.access.csv",
        "security/comunik_mail_template_security.xml",
        "data/ir_cron_data.xml",
        "views/comunik_mail_account_views.xml",
        "wizards/comunik_mail_assign_wizard_views.xml",
        "views/comunik_mail_conversation_views.xml",
        "views/comunik_mail_label_views.xml",
        "views/comunik_mail_banner_config_views.xml",
        "views/comunik_mail_template_views.xml",
        "views/comunik_mail_statistics_views.xml",
        "views/crm_lead_views.xml",
        "views/comunik_mail_menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "comunik_mail/static/src/components/**/*",
        ],
        "web.assets_tests": [
            "comunik_mail/static/tests/tours/**/*",
        ],
    },
    "application": True,
}
