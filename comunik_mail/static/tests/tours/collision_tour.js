import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

// Every step waits for a DOM state (never for a delay): the test's other user announces their activity
// only once the server has recorded ours (see test_collision_tour.py).
const row = (subject) => `.o_data_row:contains(${subject})`;

async function announce(subject, activity) {
    const [conversation] = await rpc("/web/dataset/call_kw/comunik.mail.conversation/search_read", {
        model: "comunik.mail.conversation",
        method: "search_read",
        args: [[["subject", "=", subject]], ["id"]],
        kwargs: {},
    });
    await rpc("/web/dataset/call_kw/comunik.mail.conversation/comunik_set_activity", {
        model: "comunik.mail.conversation",
        method: "comunik_set_activity",
        args: [[conversation.id], activity],
        kwargs: {},
    });
}

registry.category("web_tour.tours").add("comunik_mail_collision_tour", {
    steps: () => [
        {
            content: "La liste montre que Julie Martin consulte « Colis non reçu »",
            trigger: `${row("Colis non reçu")} .o_comunik_activity_badge[title*="Julie Martin consulte cette conversation"] .o_comunik_activity_user[data-activity=viewing]`,
        },
        {
            content: "Personne sur « Demande de devis »",
            trigger: `${row("Demande de devis")}:not(:has(.o_comunik_activity_user))`,
        },
        {
            content: "Ouvrir « Colis non reçu »",
            trigger: `${row("Colis non reçu")} td[name=subject]`,
            run: "click",
        },
        {
            content: "Le formulaire le dit",
            trigger: ".o_form_view .o_comunik_activity_banner:contains(Julie Martin consulte cette conversation)",
        },
        {
            content: "Julie Martin commence sa réponse : le bandeau suit, sans recharger",
            trigger: ".o_form_view .o_comunik_activity_banner:contains(Julie Martin rédige une réponse)",
            timeout: 30000, // Julie's client answers once the server has recorded Paul's own activity
        },
        {
            content: "Jamais soi-même",
            trigger: ".o_form_view .o_comunik_activity_banner:not(:contains(Paul Durand))",
        },
        {
            content: "Paul répond à son tour, dans le fil",
            trigger: ".o-mail-Chatter-sendMessage",
            run: "click",
        },
        {
            content: "Écrire la réponse",
            trigger: ".o-mail-Composer-input",
            run: "edit Bonjour, je m'en occupe.",
        },
        {
            content: "Julie Martin a envoyé sa réponse entre-temps (elle ne fait plus que consulter)",
            trigger: ".o_form_view .o_comunik_activity_banner:contains(Julie Martin consulte cette conversation)",
            timeout: 30000,
        },
        {
            content: "Envoyer",
            trigger: ".o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "Confirmation : ce qui est arrivé depuis (expéditeur, extrait)",
            trigger: ".modal:contains(Nouveaux messages depuis que vous avez commencé à écrire) .modal-body:contains(Julie Martin):contains(Je viens de répondre au client)",
        },
        {
            content: "Envoyer quand même",
            trigger: ".modal .modal-footer button:contains(Envoyer quand même)",
            run: "click",
        },
        {
            content: "La réponse de Paul est envoyée",
            trigger: ".o-mail-Message-body:contains(je m'en occupe)",
        },
        {
            content: "Paul répond à tous",
            trigger: ".o_form_view .o_statusbar_buttons button.o_comunik_reply_all",
            run: "click",
        },
        {
            content: "Écrire dans « Répondre à tous »",
            trigger: ".modal .o_field_widget[name=body] .odoo-editor-editable",
            run: "editor Je confirme l'envoi du colis.",
        },
        {
            content: "Paul signale qu'il écrit (Julie Martin attend ce signal pour répondre avant lui)",
            trigger: ".modal .o_field_widget[name=body]:contains(Je confirme l'envoi du colis)",
            run: () => announce("Demande de devis", "replying"),
        },
        {
            content: "Julie Martin a répondu et rédige encore",
            trigger: ".o_form_view .o_comunik_activity_banner:contains(Julie Martin rédige une réponse)",
            timeout: 30000,
        },
        {
            content: "Envoyer",
            trigger: ".modal .modal-footer button[name=action_send]:not(.o_comunik_send_anyway)",
            run: "click",
        },
        {
            content: "Le serveur demande confirmation et montre ce qui est nouveau",
            trigger: ".modal .o_comunik_newer:contains(De nouveaux messages sont arrivés):contains(Julie Martin):contains(Le client a rappelé)",
        },
        {
            content: "Envoyer quand même",
            trigger: ".modal .modal-footer button.o_comunik_send_anyway:contains(Envoyer quand même)",
            run: "click",
        },
        {
            content: "Envoyé",
            trigger: ".o_notification:contains(Email envoyé depuis)",
        },
        {
            content: "Retour à la boîte de réception",
            trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "La liste montre que Julie Martin rédige encore sur « Colis non reçu »",
            trigger: `${row("Colis non reçu")} .o_comunik_activity_badge[title*="Julie Martin rédige une réponse"] .o_comunik_activity_user[data-activity=replying]`,
        },
        {
            content: "Toujours personne sur « Demande de devis »",
            trigger: `${row("Demande de devis")}:not(:has(.o_comunik_activity_user))`,
            run: () => announce("Demande de devis", "viewing"),
        },
        {
            content: "Julie Martin ouvre « Demande de devis » : la liste suit, sans recharger",
            trigger: `${row("Demande de devis")} .o_comunik_activity_badge[title*="Julie Martin consulte cette conversation"]`,
            timeout: 30000,
        },
    ],
});
