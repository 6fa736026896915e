import { registry } from "@web/core/registry";

// First responses after 1.25 h, 2.5 h and 7 h: median 2,50, average 3,58 (French decimals) (see test_statistics_tour.py).
registry.category("web_tour.tours").add("comunik_mail_statistics_tour", {
    steps: () => [
        {
            content: "Le pivot montre le délai médian de première réponse",
            trigger: ".o_pivot th.o_pivot_measure_row:contains(Délai médian de première réponse (heures))",
        },
        {
            content: "Médiane des délais de première réponse (first_response_median:median)",
            trigger: ".o_pivot td.o_pivot_cell_value .o_value:contains(2,50)",
        },
        {
            content: "Moyenne des délais de première réponse",
            trigger: ".o_pivot td.o_pivot_cell_value .o_value:contains(3,58)",
        },
        {
            content: "Passer au graphique",
            trigger: ".o_switch_view.o_graph",
            run: "click",
        },
        {
            content: "Ouvrir les mesures",
            trigger: ".o_graph_view button:contains(Mesures)",
            run: "click",
        },
        {
            content: "Tracer le délai médian de première réponse",
            trigger: ".o-dropdown--menu .o_menu_item:contains(Délai médian de première réponse (heures))",
            run: "click",
        },
        {
            content: "Le graphique trace la médiane (first_response_median:median)",
            trigger: ".o-dropdown--menu .o_menu_item.selected:contains(Délai médian de première réponse (heures))",
        },
        {
            content: "Passer à la liste (export)",
            trigger: ".o_switch_view.o_list",
            run: "click",
        },
        {
            content: "Une ligne par email",
            trigger: ".o_list_view .o_data_row:nth-child(3) .o_data_cell[name=first_response_hours]",
        },
    ],
});
