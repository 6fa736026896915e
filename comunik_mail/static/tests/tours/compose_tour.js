import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("comunik_mail_compose_tour", {
    steps: () => [
        {
            content: "Écrire un nouveau message depuis la boîte de réception",
            trigger: ".o_control_panel button.o_comunik_compose_new:contains(Nouveau message)",
            run: "click",
        },
        {
            content: "La boîte partagée est l'expéditeur",
            trigger: ".modal .o_field_widget[name=account_id] input:value(support-ecrire@example.test)",
        },
        {
            content: "La signature de la boîte est dans le message",
            trigger: ".modal .o_field_widget[name=body]:contains(Service client — Comunik)",
        },
        {
            content: "Choisir le destinataire",
            trigger: ".modal .o_field_widget[name=partner_to_ids] input",
            run: "edit Claire",
        },
        {
            content: "Claire Dupont est proposée depuis les contacts",
            trigger: ".o-autocomplete--dropdown-item:contains(Claire Dupont)",
            run: "click",
        },
        {
            content: "Le destinataire est ajouté",
            trigger: ".modal .o_field_widget[name=partner_to_ids] .o_tag:contains(Claire Dupont)",
        },
        {
            content: "Choisir un modèle publié",
            trigger: ".modal .o_field_widget[name=template_id] input",
            run: "edit Relance",
        },
        {
            content: "Le modèle « Relance devis » est proposé",
            trigger: ".o-autocomplete--dropdown-item:contains(Relance devis)",
            run: "click",
        },
        {
            content: "Le modèle remplit l'objet pour le destinataire",
            trigger: ".modal .o_field_widget[name=subject] input:value(Votre devis, Claire Dupont)",
        },
        {
            content: "Le modèle remplit le message et la signature reste",
            trigger:
                ".modal .o_field_widget[name=body]:contains(Bonjour Claire Dupont):contains(Service client — Comunik)",
        },
        {
            content: "Envoyer",
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "La nouvelle conversation est dans la liste",
            trigger: ":not(:has(.modal)) .o_data_row:contains(Votre devis, Claire Dupont):contains(En cours)",
        },
        {
            content: "Passer en vue kanban",
            trigger: ".o_switch_view.o_kanban",
            run: "click",
        },
        {
            content: "En vue kanban, la conversation est dans la colonne « En cours »",
            trigger:
                ".o_kanban_view:has(.o_kanban_group:contains(En cours) .o_kanban_record:contains(Votre devis, Claire Dupont))",
        },
    ],
});
