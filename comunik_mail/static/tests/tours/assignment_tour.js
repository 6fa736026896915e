import { registry } from "@web/core/registry";

/** An Email admin chooses « Tour de rôle » for a shared box and caps a member at 4 open emails. */
registry.category("web_tour.tours").add("comunik_mail_assignment_tour", {
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
            content: "Ouvrir la boîte partagée",
            trigger: ".o_data_row td[name=email]:contains(attribution-tour@example.test)",
            run: "click",
        },
        {
            content: "La section « Attribution automatique » est là, en « Manuel »",
            trigger: ".o_form_label:contains(Mode d'attribution)",
        },
        {
            content: "Choisir « Tour de rôle »",
            trigger: ".o_field_widget[name=assign_mode] .o_radio_item:contains(Tour de rôle) input",
            run: "click",
        },
        {
            content: "Ajouter la capacité d'un membre",
            trigger: ".o_comunik_assign_members .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: "Choisir le membre",
            trigger: ".o_comunik_assign_members .o_data_row .o_field_widget[name=user_id] input",
            run: "edit Julie",
        },
        {
            content: "Julie Martin",
            trigger: ".o-autocomplete--dropdown-item:contains(Julie Martin)",
            run: "click",
        },
        {
            content: "Au plus 4 emails en cours",
            trigger: ".o_comunik_assign_members .o_data_row .o_field_widget[name=capacity] input",
            run: "edit 4",
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
            content: "La capacité est enregistrée",
            trigger: ".o_comunik_assign_members .o_data_row td[name=capacity]:contains(4)",
        },
    ],
});
