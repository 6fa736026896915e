import { registry } from "@web/core/registry";

const CONVERSATION = "Colis abîmé à la livraison";

function checkValue(selector, expected) {
    const value = document.querySelector(selector)?.value;
    if (value !== expected) {
        throw new Error(`${selector}: « ${expected} » attendu, « ${value} » trouvé`);
    }
}

registry.category("web_tour.tours").add("comunik_mail_template_tour", {
    steps: () => [
        // Configuration → Modèles: a folder, then a template in it.
        {
            content: "Ajouter un dossier",
            trigger: ".o_control_panel button:contains(Ajouter dossier)",
            run: "click",
        },
        {
            content: "Nommer le dossier",
            trigger: ".modal .o_field_widget[name=name] input",
            run: "edit Relances clients",
        },
        {
            content: "Créer le dossier",
            trigger: ".modal footer button:contains(Créer le dossier)",
            run: "click",
        },
        {
            content: "Le dossier apparaît dans l'arborescence, sélectionné",
            trigger: ".o_search_panel .o_search_panel_category_value header.active:contains(Relances clients)",
        },
        {
            content: "Nouveau modèle",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Titre",
            trigger: ".o_field_widget[name=name] input",
            run: "edit Colis abîmé",
        },
        {
            content: "Nom interne",
            trigger: ".o_field_widget[name=internal_name] input",
            run: "edit colis_abime",
        },
        {
            content: "Type Email par défaut",
            trigger: ".o_field_widget[name=template_type] .o_radio_item:contains(Email) input:checked",
        },
        {
            content: "Dossier",
            trigger: ".o_field_widget[name=folder_id] input",
            run: "edit Relances",
        },
        {
            content: "Choisir « Relances clients »",
            trigger: ".o-autocomplete--dropdown-item:contains(Relances clients)",
            run: "click",
        },
        {
            content: "Nom de l'expéditeur proposé : COMUNIK",
            trigger: ".o_field_widget[name=sender_name] input",
            run() {
                checkValue(".o_field_widget[name=sender_name] input", "COMUNIK");
            },
        },
        {
            content: "Personnaliser le nom de l'expéditeur",
            trigger: ".o_field_widget[name=sender_name] input",
            run: "edit Service Client",
        },
        {
            content: "Objet",
            trigger: ".o_field_widget[name=subject] input",
            run: "edit Votre colis,",
        },
        {
            content: "Insérer le nom du client dans l'objet (panneau des champs dynamiques)",
            trigger: ".o_comunik_template_placeholders button:contains(Nom du client)",
            run: "click",
        },
        {
            content: "Le champ dynamique est dans l'objet",
            trigger: ".o_field_widget[name=subject] input",
            run() {
                checkValue(".o_field_widget[name=subject] input", "Votre colis, {{fullname}}");
            },
        },
        {
            content: "Contenu",
            trigger: ".o_field_widget[name=body_html] .odoo-editor-editable",
            run: "editor Bonjour",
        },
        {
            content: "Insérer le nom du client dans le contenu",
            trigger: ".o_comunik_template_placeholders button:contains(Nom du client)",
            run: "click",
        },
        {
            content: "Le champ dynamique est dans le contenu",
            trigger: ".o_field_widget[name=body_html] .odoo-editor-editable:contains({{fullname}})",
            run() {
                const text = this.anchor.textContent.replace(/\u00a0/g, " ");
                if (text !== "Bonjour {{fullname}}") {
                    throw new Error(`« Bonjour {{fullname}} » attendu, « ${text} » trouvé`);
                }
            },
        },
        {
            content: "Publier",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(Publier)",
            run: "click",
        },
        {
            content: "Le modèle est publié",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Publié)",
        },
        {
            content: "Retour à la liste des modèles",
            trigger: ".o_breadcrumb a:contains(Modèles)",
            run: "click",
        },
        {
            content: "Le modèle publié apparaît en vert",
            trigger: ".o_data_row.text-success:contains(Colis abîmé)",
        },
        // Reply to a conversation with it, from Odoo's full composer.
        {
            content: "Ouvrir les boîtes de réception",
            trigger: ".o_main_navbar a:contains(Boîtes de réception)",
            run: "click",
        },
        {
            content: "Ouvrir la conversation",
            trigger: `.o_data_row:contains(${CONVERSATION}) .o_data_cell[name=subject]`,
            run: "click",
        },
        {
            content: "Envoyer un message",
            trigger: ".o-mail-Chatter-sendMessage",
            run: "click",
        },
        {
            content: "Ouvrir l'éditeur complet",
            trigger: ".o-mail-Composer button[title=\"Ouvrir l'éditeur complet\"]",
            run: "click",
        },
        {
            content: "Ouvrir les modèles",
            trigger: ".modal .mail-composer-template-dropdown-btn",
            run: "click",
        },
        {
            content: "Choisir le modèle publié",
            trigger: ".mail-composer-template-dropdown.popover .o-dropdown-item:contains(Colis abîmé)",
            run: "click",
        },
        {
            content: "Le contenu est personnalisé pour le client",
            trigger: ".modal .o_field_html[name=body]:contains(Bonjour Claire Dupont)",
        },
        {
            content: "L'objet aussi",
            trigger: ".modal .o_field_widget[name=subject] input",
            run() {
                checkValue(".modal .o_field_widget[name=subject] input", "Votre colis, Claire Dupont");
            },
        },
        {
            content: "Envoyer",
            trigger: ".modal .o_mail_send:enabled",
            run: "click",
        },
        {
            content: "La réponse apparaît dans la conversation",
            trigger: ".o-mail-Message-body:contains(Bonjour Claire Dupont)",
        },
    ],
});
