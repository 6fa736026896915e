import { MailComposerTemplateSelector } from "@mail/core/web/mail_composer_template_selector";
import { patch } from "@web/core/utils/patch";

/**
 * Odoo's template menu of the full composer loads its templates without waiting for them:
 * opened quickly, it crashed on the missing list. It now starts empty and fills in when loaded.
 */
patch(MailComposerTemplateSelector.prototype, {
    setup() {
        super.setup(...arguments);
        this.state.templates ??= [];
    },
});
