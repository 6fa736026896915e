import { registry } from "@web/core/registry";

const ROW = ".o_data_row:contains(Panne de l'imprimante d'étiquettes)";

registry.category("web_tour.tours").add("comunik_mail_dispatch_tour", {
    steps: () => [
        {
            content: "Le nouvel email porte le badge « Nouveau »",
            trigger: `${ROW} .o_comunik_new_badge:contains(Nouveau)`,
        },
        {
            content: "Sélectionner l'email",
            trigger: `${ROW} .o_list_record_selector input`,
            run: "click",
        },
        {
            content: "Assigner",
            trigger: ".o_selection_container button:contains(Assigner)",
            run: "click",
        },
        {
            content: "Choisir un membre du département",
            trigger: ".modal .o_field_widget[name=user_id] input",
            run: "edit Mélanie",
        },
        {
            content: "Mélanie Membre",
            trigger: ".o-autocomplete--dropdown-item:contains(Mélanie Membre)",
            run: "click",
        },
        {
            content: "Priorité haute",
            trigger: ".modal .o_field_widget[name=priority] .o_radio_item:contains(Haute) input",
            run: "click",
        },
        {
            content: "Valider l'assignation",
            trigger: ".modal footer button:contains(Assigner)",
            run: "click",
        },
        {
            content: "Le statut devient « Assigné »",
            trigger: `${ROW} .badge:contains(Assigné)`,
        },
        {
            content: "Le badge « Nouveau » a disparu",
            trigger: `${ROW}:not(:has(.o_comunik_new_badge))`,
        },
    ],
});
