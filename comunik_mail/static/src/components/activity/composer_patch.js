import { Composer } from "@mail/core/common/composer";
import { _t } from "@web/core/l10n/translation";
import { ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { useService } from "@web/core/utils/hooks";
import { isHtmlEmpty } from "@web/core/utils/html";
import { patch } from "@web/core/utils/patch";
import { toRaw, useEffect, onWillUnmount } from "@odoo/owl";
import { CONVERSATION } from "./activity_service";

/**
 * The chatter's composer on a conversation:
 * - typing a reply (not a note) announces « replying » to the team;
 * - it remembers the newest message when the user started writing, and before sending asks the server
 *   what arrived since; if a customer email or a colleague's reply did, a confirmation lists them
 *   (sender, date, excerpt) with « Envoyer quand même ». The server refuses a reply whose marker is
 *   older than its newest messages unless they were confirmed (comunik_confirm_up_to).
 */
patch(Composer.prototype, {
    setup() {
        super.setup(...arguments);
        this.comunikActivity = useService("comunik_activity");
        this.comunikDialog = useService("dialog");
        this.comunikOrm = useService("orm");
        this.comunikReplying = null;
        this.comunikSeen = 0;
        useEffect(
            (html) => this.comunikOnText(!isHtmlEmpty(html)),
            () => [this.props.composer.composerHtml]
        );
        onWillUnmount(() => this.comunikStopReplying());
    },

    get comunikConversationId() {
        const thread = toRaw(this.thread);
        if (thread?.model !== CONVERSATION || !Number.isInteger(thread.id) || this.props.type === "note") {
            return null;
        }
        return this.props.composer.message ? null : thread.id;
    },

    comunikNewestId() {
        return toRaw(this.thread)?.newestPersistentMessage?.id || 0;
    },

    comunikOnText(written) {
        const conversationId = this.comunikConversationId;
        if (!conversationId) {
            return;
        }
        if (written && !this.comunikReplying) {
            this.comunikSeen ||= this.comunikNewestId();
            this.comunikReplying = this.comunikActivity.claim(conversationId, "replying");
        } else if (!written) {
            this.comunikStopReplying();
        }
    },

    comunikStopReplying() {
        this.comunikReplying?.release();
        this.comunikReplying = null;
    },

    async sendMessage() {
        const conversationId = this.comunikConversationId;
        if (!conversationId || !this.canProcessMessage) {
            return super.sendMessage(...arguments);
        }
        const seen = this.comunikSeen || this.comunikNewestId();
        const newer = await this.comunikOrm.call(CONVERSATION, "comunik_newer_messages", [[conversationId], seen]);
        let confirmUpTo = 0;
        if (newer.length) {
            const confirmed = await new Promise((resolve) => {
                this.comunikDialog.add(
                    ConfirmationDialog,
                    {
                        title: _t("New messages since you started writing"),
                        body: [
                            _t("New messages arrived in this conversation since you started writing:"),
                            ...newer.map((m) => `• ${m.author} (${m.date}) : ${m.excerpt}`),
                        ].join("\n"),
                        confirmLabel: _t("Send Anyway"),
                        confirm: () => resolve(true),
                        cancel: () => resolve(false),
                    },
                    { onClose: () => resolve(false) }
                );
            });
            if (!confirmed) {
                return;
            }
            confirmUpTo = Math.max(...newer.map((m) => m.id));
        }
        this.comunikPostContext = { comunik_seen_message_id: seen, comunik_confirm_up_to: confirmUpTo };
        try {
            await super.sendMessage(...arguments);
        } finally {
            this.comunikPostContext = null;
        }
        this.comunikSeen = 0;
    },

    async _sendMessage(value, postData, extraData) {
        if (this.comunikPostContext) {
            extraData = {
                ...extraData,
                context: { ...(extraData?.context || {}), ...this.comunikPostContext },
            };
        }
        return super._sendMessage(value, postData, extraData);
    },
});
