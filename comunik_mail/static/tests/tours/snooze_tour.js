import { registry } from "@web/core/registry";

const SNOOZED = "Relance facture impayée";
const OTHER = "Demande de devis";
const counter = ".o_comunik_banner .o_comunik_banner_counter[data-counter=snoozed]";

registry.category("web_tour.tours").add("comunik_mail_snooze_tour", {
    steps: () => [
        {
            content: "Le compteur « En attente » du bandeau est à zéro",
            trigger: `${counter}:contains(En attente) .o_comunik_banner_count:contains(0)`,
        },
        {
            content: "Ouvrir l'email à mettre en attente",
            trigger: `.o_data_row:contains(${SNOOZED}) td.o_data_cell[name=subject]`,
            run: "click",
        },
        {
            content: "Mettre en attente jusqu'au…",
            trigger: ".o_form_view .o_statusbar_buttons button.o_comunik_snooze:contains(Mettre en attente)",
            run: "click",
        },
        {
            content: "Choisir « Lundi prochain 9h »",
            trigger: ".modal .o_field_widget[name=choice] .o_radio_item:contains(Lundi prochain 9h) input",
            run: "click",
        },
        {
            content: "La date est lue dans le fuseau de l'utilisateur",
            trigger: ".modal .o_field_widget[name=snooze_until_text]:contains(lundi):contains(09:00):contains(Europe/Paris)",
        },
        {
            content: "« Réveiller si le client répond » est coché par défaut",
            trigger: ".modal .o_field_widget[name=wake_on_reply] input:checked",
        },
        {
            content: "Valider",
            trigger: ".modal footer button:contains(Mettre en attente)",
            run: "click",
        },
        {
            content: "Le formulaire montre la mise en attente",
            trigger: ".o_form_view .o_comunik_snoozed:contains(En attente jusqu'au)",
        },
        {
            content: "Retour à la boîte de réception",
            trigger: ".o_breadcrumb a:contains(Boîtes de réception)",
            run: "click",
        },
        {
            content: "L'email en attente a quitté la boîte de réception",
            trigger: `.o_list_view:has(.o_data_row:contains(${OTHER})):not(:has(.o_data_row:contains(${SNOOZED})))`,
        },
        {
            content: "Le bandeau compte un email en attente",
            trigger: `${counter} .o_comunik_banner_count:contains(1)`,
            run: "click",
        },
        {
            content: "Le filtre « En attente » le montre",
            trigger: `.o_searchview_facet:contains(En attente)`,
        },
        {
            content: "Seul l'email en attente est listé",
            trigger: `.o_list_view:has(.o_data_row:contains(${SNOOZED})):not(:has(.o_data_row:contains(${OTHER})))`,
        },
        {
            content: "Ouvrir l'email en attente",
            trigger: `.o_data_row:contains(${SNOOZED}) td.o_data_cell[name=subject]`,
            run: "click",
        },
        {
            content: "Reprendre",
            trigger: ".o_form_view .o_statusbar_buttons button.o_comunik_unsnooze:contains(Reprendre)",
            run: "click",
        },
        {
            content: "La mise en attente est terminée",
            trigger: ".o_form_view:not(:has(.o_comunik_snoozed)):not(:has(button.o_comunik_unsnooze))",
        },
    ],
});
