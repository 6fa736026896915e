import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { Component } from "@odoo/owl";

/** Blue « Nouveau » badge for newly received conversations (purely visual). */
export class NewBadgeField extends Component {
    static template = "comunik_mail.NewBadgeField";
    static props = { ...standardFieldProps };

    get label() {
        return _t("New");
    }
}

export const newBadgeField = {
    component: NewBadgeField,
    supportedTypes: ["boolean"],
};

registry.category("fields").add("comunik_new_badge", newBadgeField);
