import { registry } from "@web/core/registry";

const EMAIL = "support-tour@example.test";

registry.category("web_tour.tours").add("comunik_mail_account_tour", {
    steps: () => [
        {
            content: "Ouvrir le menu des applications",
            trigger: ".o_navbar_apps_menu button:enabled",
            run: "click",
        },
        {
            content: "Ouvrir l'application Email",
            trigger: ".o_app[data-menu-xmlid='comunik_mail.menu_comunik_mail_root']",
            run: "click",
        },
        {
            content: "Menu Configuration",
            trigger: ".o_main_navbar [data-menu-xmlid='comunik_mail.menu_comunik_mail_configuration']",
            run: "click",
        },
        {
            content: "Comptes Email",
            trigger: ".dropdown-item[data-menu-xmlid='comunik_mail.menu_comunik_mail_account']",
            run: "click",
        },
        {
            content: "Ajouter un compte email",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Adresse email complète",
            trigger: ".o_field_widget[name=email] input",
            run: `edit ${EMAIL}`,
        },
        {
            content: "Catégorie : Partagé",
            trigger: ".o_field_widget[name=category] .o_radio_item:contains(Partagé) input",
            run: "click",
        },
        {
            content: "Nom d'hôte IMAP",
            trigger: ".o_field_widget[name=imap_host] input",
            run: "edit 127.0.0.1",
        },
        {
            content: "Port IMAP",
            trigger: ".o_field_widget[name=imap_port] input",
            run: "edit 19993",
        },
        {
            content: "Nom d'utilisateur par défaut : l'adresse",
            trigger: `.o_field_widget[name=imap_user] input:value(${EMAIL})`,
        },
        {
            content: "Mot de passe",
            trigger: ".o_field_widget[name=imap_password] input",
            run: "edit Tour-S3cret",
        },
        {
            content: "Nom d'hôte SMTP",
            trigger: ".o_field_widget[name=smtp_host] input",
            run: "edit 127.0.0.1",
        },
        {
            content: "Port SMTP",
            trigger: ".o_field_widget[name=smtp_port] input",
            run: "edit 19465",
        },
        {
            content: "Tester la connexion avant d'enregistrer",
            trigger: "button.o_comunik_test_connection:contains(Tester la connexion)",
            run: "click",
        },
        {
            content: "Le test réussit",
            trigger: ".alert-success:contains(Connexion réussie)",
        },
        {
            content: "Enregistrer",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Retour à la liste des comptes",
            trigger: ".o_breadcrumb a:contains(Comptes Email)",
            run: "click",
        },
        {
            content: "Le compte est valide dans la liste",
            trigger: `.o_data_row:contains(${EMAIL}) .badge:contains(Valide)`,
        },
    ],
});
