import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { Component, onMounted, onWillUnmount, onWillUpdateProps, useState } from "@odoo/owl";
import { CONVERSATION } from "./activity_service";

function label(entry) {
    return entry.activity === "replying"
        ? _t("%s is writing a reply", entry.name)
        : _t("%s is viewing this conversation", entry.name);
}

/** Shared by the list badge and the form banner: the record's viewers, live. */
class ActivityBase extends Component {
    static props = { ...standardFieldProps };

    setup() {
        this.activity = useService("comunik_activity");
        this.state = useState(this.activity.state);
        this.seed(this.props);
        onWillUpdateProps((nextProps) => {
            if (nextProps.record.data[nextProps.name] !== this.props.record.data[this.props.name]) {
                this.seed(nextProps);
            }
        });
        onMounted(() => this.activity.start());
    }

    seed(props) {
        if (props.record.resId) {
            this.activity.seed(props.record.resId, props.record.data[props.name] || []);
        }
    }

    get entries() {
        // Read through the reactive state so that a bus notification or an expiry re-renders.
        void this.state.now;
        void this.state.entries[this.props.record.resId];
        return this.props.record.resId ? this.activity.others(this.props.record.resId) : [];
    }

    label(entry) {
        return label(entry);
    }

    get title() {
        return this.entries.map(label).join("\n");
    }

    avatar(entry) {
        return `/web/image/res.users/${entry.user_id}/avatar_128`;
    }
}

/** Inbox list and kanban: the avatars of who is on the conversation, a pen when replying. */
export class ActivityBadgeField extends ActivityBase {
    static template = "comunik_mail.ActivityBadgeField";
}

/** Conversation form: « Julie Martin consulte cette conversation »; opening it announces « viewing ». */
export class ActivityBannerField extends ActivityBase {
    static template = "comunik_mail.ActivityBannerField";

    setup() {
        super.setup();
        this.handle = null;
        this.claimedId = null;
        onMounted(() => this.claimFor(this.props.record.resId));
        onWillUpdateProps((nextProps) => this.claimFor(nextProps.record.resId));
        onWillUnmount(() => this.claimFor(null));
    }

    claimFor(resId) {
        if (resId === this.claimedId) {
            return;
        }
        this.handle?.release();
        this.handle = resId ? this.activity.claim(resId, "viewing") : null;
        this.claimedId = resId || null;
    }
}

/** Invisible, on « Répondre à tous » / « Transférer »: while it is open, the user is replying. */
export class ActivityReplyingField extends Component {
    static template = "comunik_mail.ActivityReplyingField";
    static props = { ...standardFieldProps };

    setup() {
        this.activity = useService("comunik_activity");
        onMounted(() => {
            const conversationId = this.props.record.data[this.props.name]?.id;
            const mode = this.props.record.data.mode;
            if (conversationId && mode !== "new") {
                this.handle = this.activity.claim(conversationId, "replying");
            }
        });
        onWillUnmount(() => this.handle?.release());
    }
}

/** The same, in Odoo's full composer opened on one conversation (its model and res_ids fields). */
export class ActivityReplyingComposerField extends Component {
    static template = "comunik_mail.ActivityReplyingField";
    static props = { ...standardFieldProps };

    setup() {
        this.activity = useService("comunik_activity");
        onMounted(() => {
            const { model, res_ids: resIds } = this.props.record.data;
            let ids = [];
            try {
                ids = typeof resIds === "string" ? JSON.parse(resIds || "[]") : resIds || [];
            } catch {
                ids = [];
            }
            if (model === CONVERSATION && ids.length === 1 && Number.isInteger(ids[0])) {
                this.handle = this.activity.claim(ids[0], "replying");
            }
        });
        onWillUnmount(() => this.handle?.release());
    }
}

registry.category("fields").add("comunik_activity_replying_composer", {
    component: ActivityReplyingComposerField,
    supportedTypes: ["text", "char"],
});
registry.category("fields").add("comunik_activity_badge", {
    component: ActivityBadgeField,
    supportedTypes: ["json"],
});
registry.category("fields").add("comunik_activity_banner", {
    component: ActivityBannerField,
    supportedTypes: ["json"],
});
registry.category("fields").add("comunik_activity_replying", {
    component: ActivityReplyingField,
    supportedTypes: ["many2one"],
});
