import { registry } from "@web/core/registry";

const OLDER = ".o_data_row:contains(Colis abîmé):not(:contains(photos))";
const NEWER = ".o_data_row:contains(Colis abîmé (photos))";

registry.category("web_tour.tours").add("comunik_mail_merge_tour", {
    steps: () => [
        {
            content: "Sélectionner la première conversation",
            trigger: `${OLDER} .o_list_record_selector input`,
            run: "click",
        },
        {
            content: "Sélectionner la seconde",
            trigger: `${NEWER} .o_list_record_selector input`,
            run: "click",
        },
        {
            content: "Fusionner",
            trigger: ".o_selection_container button:contains(Fusionner)",
            run: "click",
        },
        {
            content: "Les deux conversations sont listées",
            trigger: ".modal .o_field_widget[name=conversation_ids] .o_data_row:contains(photos)",
        },
        {
            content: "La plus ancienne est conservée par défaut",
            trigger: ".modal .o_field_widget[name=target_id] input:value(Colis abîmé)",
        },
        {
            content: "Avertissement : les clients sont différents",
            trigger: ".modal .o_comunik_merge_customers_warning:contains(Les clients sont différents):contains(Bob Martin)",
        },
        {
            content: "Confirmer malgré des clients différents",
            trigger: ".modal .o_field_widget[name=confirm_customers] input",
            run: "click",
        },
        {
            content: "Valider la fusion",
            trigger: ".modal footer button:contains(Fusionner)",
            run: "click",
        },
        {
            content: "La conversation fusionnée disparaît de la boîte",
            trigger: `.o_list_renderer:not(:has(${NEWER})):has(${OLDER})`,
        },
        {
            content: "Ouvrir la conversation conservée",
            trigger: `${OLDER} td[name=subject]`,
            run: "click",
        },
        {
            content: "L'annulation de la fusion est proposée",
            trigger: ".o_form_view button:contains(Annuler la fusion)",
        },
        {
            content: "La fusion est notée dans le fil",
            trigger: ".o-mail-Message:contains(fusionnée ici)",
        },
    ],
});
