import { registry } from "@web/core/registry";

// First responses after 1.25 h, 2.5 h and 7 h: median 2.50, average 3.58 (see test_statistics_tour.py).
registry.category("web_tour.tours").add("comunik_mail_statistics_tour", {
    steps: () => [
        {
            content: "The pivot shows the median first response time as a measure",
            trigger: ".o_pivot th.o_pivot_measure_row:contains(Median First Response Time (hours))",
        },
        {
            content: "Median of the first response times (asked as first_response_median:median)",
            trigger: ".o_pivot td.o_pivot_cell_value .o_value:contains(2.50)",
        },
        {
            content: "Average of the first response times",
            trigger: ".o_pivot td.o_pivot_cell_value .o_value:contains(3.58)",
        },
        {
            content: "Switch to the graph",
            trigger: ".o_switch_view.o_graph",
            run: "click",
        },
        {
            content: "Open the measures",
            trigger: ".o_graph_view button:contains(Measures)",
            run: "click",
        },
        {
            content: "Plot the median first response time",
            trigger: ".o-dropdown--menu .o_menu_item:contains(Median First Response Time (hours))",
            run: "click",
        },
        {
            content: "The graph now plots the median (loaded with first_response_median:median)",
            trigger: ".o-dropdown--menu .o_menu_item.selected:contains(Median First Response Time (hours))",
        },
        {
            content: "Switch to the list (export)",
            trigger: ".o_switch_view.o_list",
            run: "click",
        },
        {
            content: "One row per email",
            trigger: ".o_list_view .o_data_row:nth-child(3) .o_data_cell[name=first_response_hours]",
        },
    ],
});
