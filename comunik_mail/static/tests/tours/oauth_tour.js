import { registry } from "@web/core/registry";

/**
 * A new box, in French: choosing « Microsoft 365 / Outlook.com » offers « Se connecter avec Microsoft »
 * and hides what does not apply (password, servers, SMTP settings); going back to another provider
 * brings them back.
 */
registry.category("web_tour.tours").add("comunik_mail_oauth_provider_tour", {
    steps: () => [
        {
            content: "Nouvelle boîte : le mot de passe est demandé",
            trigger: ".o_field_widget[name=imap_password] input",
        },
        {
            content: "Adresse de la boîte",
            trigger: ".o_field_widget[name=email] input",
            run: "edit contact@entreprise-tour.test",
        },
        {
            content: "Ouvrir la liste des fournisseurs",
            trigger: ".o_field_widget[name=mail_provider] input",
            run: "click",
        },
        {
            content: "Fournisseur : Microsoft 365",
            trigger: ".o_select_menu_item:contains(Microsoft 365 / Outlook.com)",
            run: "click",
        },
        {
            content: "Le bouton « Se connecter avec Microsoft » apparaît",
            trigger: "button.o_comunik_oauth_microsoft:contains(Se connecter avec Microsoft)",
        },
        {
            content: "Aucun mot de passe, aucun serveur à saisir",
            trigger: ".o_comunik_oauth:contains(aucun mot de passe)",
            run() {
                for (const name of ["imap_password", "imap_host", "imap_port", "smtp_host", "smtp_password"]) {
                    if (document.querySelector(`.o_field_widget[name=${name}]`)) {
                        throw new Error(`${name} is still shown for Microsoft 365`);
                    }
                }
                if (document.querySelector("button.o_comunik_oauth_google")) {
                    throw new Error("the Google button is shown for Microsoft 365");
                }
            },
        },
        {
            content: "Rouvrir la liste des fournisseurs",
            trigger: ".o_field_widget[name=mail_provider] input",
            run: "click",
        },
        {
            content: "Fournisseur : OVHcloud",
            trigger: ".o_select_menu_item:contains(OVHcloud)",
            run: "click",
        },
        {
            content: "Le mot de passe revient",
            trigger: ".o_field_widget[name=imap_password] input",
        },
        {
            content: "Et le serveur proposé par le fournisseur",
            trigger: ".o_field_widget[name=imap_host] input:value(ssl0.ovh.net)",
            run() {
                if (document.querySelector("button.o_comunik_oauth_microsoft")) {
                    throw new Error("the Microsoft button is still shown");
                }
            },
        },
        {
            content: "Abandonner la nouvelle boîte",
            trigger: ".o_form_button_cancel",
            run: "click",
        },
        {
            content: "Retour à la liste des comptes",
            trigger: ".o_list_view",
        },
    ],
});
