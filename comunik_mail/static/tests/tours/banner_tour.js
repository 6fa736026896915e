import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

const counter = (key) => `.o_comunik_banner .o_comunik_banner_counter[data-counter=${key}]`;

async function syncSupportBox() {
    // New mail arrives while the inbox is open: the banner must follow without a reload.
    const [account] = await rpc("/web/dataset/call_kw/comunik.mail.account/search_read", {
        model: "comunik.mail.account",
        method: "search_read",
        args: [[["email", "like", "banner-tour"]], ["id"]],
        kwargs: {},
    });
    await rpc("/web/dataset/call_kw/comunik.mail.account/sync_now", {
        model: "comunik.mail.account",
        method: "sync_now",
        args: [[account.id]],
        kwargs: {},
    });
}

registry.category("web_tour.tours").add("comunik_mail_banner_tour", {
    steps: () => [
        {
            content: "Menu des applications",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Application Email",
            trigger: ".o_app:contains(Email)",
            run: "click",
        },
        {
            content: "La boîte de réception est ouverte",
            trigger: ".o_list_view .o_comunik_banner",
        },
        {
            content: "Ouvrir la configuration",
            trigger: ".o_main_navbar button:contains(Configuration)",
            run: "click",
        },
        {
            content: "Config de l'affichage des indicateurs sur bandeau",
            trigger: ".dropdown-item:contains(indicateurs sur bandeau)",
            run: "click",
        },
        {
            content: "Afficher aussi « À traiter »",
            trigger: ".o_field_widget[name=show_to_process] input",
            run: "click",
        },
        {
            content: "Ne plus afficher « Assignés »",
            trigger: ".o_field_widget[name=show_assigned] input:checked",
            run: "click",
        },
        {
            content: "Enregistrer",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Enregistré",
            trigger: ".o_form_saved",
        },
        {
            content: "Aller aux boîtes de réception",
            trigger: ".o_menu_sections .o_nav_entry:contains(Boîtes de réception)",
            run: "click",
        },
        {
            content: "Le bandeau montre les compteurs choisis",
            trigger: `${counter("unassigned")}:contains(3):contains(Non assignés)`,
        },
        {
            content: "« À traiter » est affiché, « Assignés » ne l'est plus",
            trigger: `${counter("to_process")}:contains(1):contains(À traiter)`,
        },
        {
            content: "Pas de compteur « Assignés »",
            trigger: `.o_comunik_banner:not(:has(${counter("assigned")}))`,
        },
        {
            content: "Un email arrive pendant que la boîte est ouverte",
            trigger: `${counter("unassigned")}:contains(3)`,
            run: syncSupportBox,
        },
        {
            content: "Le compteur se met à jour sans recharger la page",
            trigger: `${counter("unassigned")}:contains(4)`,
        },
        {
            content: "Cliquer sur « Non assignés » filtre la liste",
            trigger: counter("unassigned"),
            run: "click",
        },
        {
            content: "Le filtre « Non assigné » est actif",
            trigger: ".o_searchview_facet:contains(Non assigné)",
        },
        {
            content: "Seuls les emails non assignés restent",
            trigger: ".o_list_renderer:not(:has(.o_data_row:contains(En cours)))",
        },
        {
            content: "Le compteur cliqué est mis en avant",
            trigger: `${counter("unassigned")}.btn-primary`,
        },
    ],
});
