import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { browser } from "@web/core/browser/browser";
import { reactive } from "@odoo/owl";

export const CONVERSATION = "comunik.mail.conversation";
/** The server forgets an announcement after 60 s without a heartbeat; one every 30 s keeps it. */
export const HEARTBEAT_MS = 30000;
const TICK_MS = 5000;
const RANK = { none: 0, viewing: 1, replying: 2 };

/**
 * Collision detection, client side.
 *
 * - Others: who is viewing / replying to each conversation, from the bus notifications
 *   « comunik_mail.activity » (sent on the user's own channel, only for the boxes they may see) and
 *   from the « live_activity » field of the records read. Each entry expires by itself
 *   (``expires_in`` seconds, counted on this browser's clock).
 * - Self: the screens of this tab claim « viewing » (the form) or « replying » (a composer); the
 *   strongest claim is sent to the server at once and every 30 s, « none » when the last one ends.
 */
export const comunikActivityService = {
    dependencies: ["bus_service", "orm"],
    start(env, { bus_service, orm }) {
        const state = reactive({ entries: {}, now: Date.now() });
        const claims = {}; // conversation id -> Map(claim token -> activity)
        const timers = {};
        const sent = {};

        function setEntries(conversationId, activities) {
            const now = Date.now();
            state.now = now;
            state.entries[conversationId] = (activities || [])
                .filter((entry) => entry.user_id !== user.userId)
                .map((entry) => ({ ...entry, expiresAt: now + entry.expires_in * 1000 }));
        }

        bus_service.subscribe("comunik_mail.activity", (payload) =>
            setEntries(payload.conversation_id, payload.activities)
        );
        // Expired entries leave by themselves (checked every 5 s); only an expiry re-renders.
        browser.setInterval(() => {
            const now = Date.now();
            let changed = false;
            for (const [conversationId, entries] of Object.entries(state.entries)) {
                const alive = entries.filter((entry) => entry.expiresAt > now);
                if (alive.length !== entries.length) {
                    state.entries[conversationId] = alive;
                    changed = true;
                }
            }
            if (changed) {
                state.now = now;
            }
        }, TICK_MS);

        function effective(conversationId) {
            let best = "none";
            for (const activity of claims[conversationId]?.values() || []) {
                if (RANK[activity] > RANK[best]) {
                    best = activity;
                }
            }
            return best;
        }

        async function push(conversationId, force = false) {
            const activity = effective(conversationId);
            if (!force && sent[conversationId] === activity) {
                return;
            }
            sent[conversationId] = activity;
            try {
                await orm.silent.call(CONVERSATION, "comunik_set_activity", [[conversationId], activity]);
            } catch {
                // Lost access, or offline: the announcement simply expires.
                delete sent[conversationId];
            }
        }

        function claim(conversationId, activity) {
            const token = Symbol(activity);
            claims[conversationId] ??= new Map();
            claims[conversationId].set(token, activity);
            if (!timers[conversationId]) {
                timers[conversationId] = browser.setInterval(() => push(conversationId, true), HEARTBEAT_MS);
            }
            push(conversationId);
            return {
                update(newActivity) {
                    if (claims[conversationId]?.has(token)) {
                        claims[conversationId].set(token, newActivity);
                        push(conversationId);
                    }
                },
                release() {
                    if (!claims[conversationId]?.delete(token)) {
                        return;
                    }
                    if (!claims[conversationId].size) {
                        delete claims[conversationId];
                        browser.clearInterval(timers[conversationId]);
                        delete timers[conversationId];
                    }
                    push(conversationId);
                },
            };
        }

        return {
            state,
            claim,
            /** The record's « live_activity » as read from the server (a full snapshot). */
            seed: setEntries,
            /** Other users on the conversation now: [{user_id, name, activity}]. */
            others(conversationId) {
                return (state.entries[conversationId] || []).filter((entry) => entry.expiresAt > state.now);
            },
            start() {
                if (!bus_service.isActive) {
                    bus_service.start();
                }
            },
        };
    },
};

registry.category("services").add("comunik_activity", comunikActivityService);
