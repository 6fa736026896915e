import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { Component, useState } from "@odoo/owl";

/**
 * "Tester la connexion" button bound to an integer counter field.
 *
 * Bumping the counter triggers the server onchange that tests the form's
 * current values, so the connection can be checked before the account is saved.
 */
export class TestConnectionField extends Component {
    static template = "comunik_mail.TestConnectionField";
    static props = { ...standardFieldProps };

    setup() {
        this.state = useState({ running: false });
    }

    get label() {
        return this.state.running ? _t("Testing…") : _t("Test Connection");
    }

    async onClick() {
        this.state.running = true;
        try {
            const record = this.props.record;
            await record.update({ [this.props.name]: (record.data[this.props.name] || 0) + 1 });
        } finally {
            this.state.running = false;
        }
    }
}

export const testConnectionField = {
    component: TestConnectionField,
    supportedTypes: ["integer"],
};

registry.category("fields").add("comunik_test_connection", testConnectionField);
