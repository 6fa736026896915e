import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("comunik_mail_split_tour", {
    steps: () => [
        {
            content: "Ouvrir l'onglet des emails",
            trigger: ".o_notebook .nav-link:contains(Emails)",
            run: "click",
        },
        {
            content: "Séparer l'email sur un autre sujet",
            trigger: ".o_field_widget[name=comunik_email_ids] .o_data_row:contains(Autre sujet) button.o_comunik_split",
            run: "click",
        },
        {
            content: "Confirmer",
            trigger: ".modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "La nouvelle conversation s'ouvre, non assignée",
            trigger: ".o_form_view .o_field_widget[name=subject]:contains(Autre sujet)",
        },
        {
            content: "Statut « Non assigné »",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Non assigné)",
        },
        {
            content: "La séparation est notée dans le fil",
            trigger: ".o-mail-Message:contains(Séparé de)",
        },
    ],
});
