import { registry } from "@web/core/registry";

/**
 * The manager of a box (its owner, or an Email admin who is not a Settings admin) changes its connection
 * settings through the account form and saves: the settings reach the box's servers (checked in Python).
 */
function editSettingsSteps(email) {
    return [
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
            content: "Ouvrir la boîte",
            trigger: `.o_data_row td[name=email]:contains(${email})`,
            run: "click",
        },
        {
            content: "Les réglages IMAP sont visibles et modifiables",
            trigger: ".o_field_widget[name=imap_host] input:value(127.0.0.1)",
        },
        {
            content: "Nouveau nom d'hôte IMAP",
            trigger: ".o_field_widget[name=imap_host] input",
            run: "edit localhost",
        },
        {
            content: "Nouveau port IMAP",
            trigger: ".o_field_widget[name=imap_port] input",
            run: "edit 995",
        },
        {
            content: "Nouveau port SMTP",
            trigger: ".o_field_widget[name=smtp_port] input",
            run: "edit 587",
        },
        {
            content: "Enregistrer",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Enregistré sans erreur",
            trigger: ".o_form_saved",
        },
        {
            content: "Le nouveau port IMAP est conservé",
            trigger: ".o_field_widget[name=imap_port] input:value(995)",
        },
    ];
}

registry.category("web_tour.tours").add("comunik_mail_owner_edits_box_tour", {
    steps: () => editSettingsSteps("perso-tour@example.test"),
});

registry.category("web_tour.tours").add("comunik_mail_admin_edits_box_tour", {
    steps: () => editSettingsSteps("partage-tour@example.test"),
});
