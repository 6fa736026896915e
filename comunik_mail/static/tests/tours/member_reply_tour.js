import { registry } from "@web/core/registry";

const REPLY = "Bonjour Claire, votre commande part aujourd'hui.";

registry.category("web_tour.tours").add("comunik_mail_member_reply_tour", {
    steps: () => [
        {
            content: "Ouvrir l'email assigné",
            trigger: ".o_data_row:contains(Commande CMD-30412 non reçue) .o_data_cell[name=subject]",
            run: "click",
        },
        {
            content: "Commencer le traitement",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(Commencer)",
            run: "click",
        },
        {
            content: "Le statut passe à « En cours »",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(En cours)",
        },
        {
            content: "Répondre au client",
            trigger: ".o-mail-Chatter-sendMessage",
            run: "click",
        },
        {
            content: "Le client est proposé comme destinataire, pas l'adresse partagée",
            trigger: ".o-mail-RecipientsInput:contains(Claire Dupont):not(:contains(support-reply@example.test))",
        },
        {
            content: "Écrire la réponse",
            trigger: ".o-mail-Composer-input",
            run: `edit ${REPLY}`,
        },
        {
            content: "Envoyer",
            trigger: ".o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "La réponse apparaît dans la conversation",
            trigger: `.o-mail-Message-body:contains(${REPLY})`,
        },
        {
            content: "Clôturer",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(Clôturer)",
            run: "click",
        },
        {
            content: "Le statut passe à « Clôturé »",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Clôturé)",
        },
    ],
});
