import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useDebounced } from "@web/core/utils/timing";
import { listView } from "@web/views/list/list_view";
import { ListController } from "@web/views/list/list_controller";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { Component, onMounted, onWillStart, onWillUnmount, useState } from "@odoo/owl";

/**
 * Counters of the shared inboxes the user may see, chosen in « Config de l'affichage des
 * indicateurs sur bandeau ». Live: the server sends a bus notification when mail arrives or
 * changes state; clicking a counter toggles the matching filter of the inbox.
 */
export class ComunikBanner extends Component {
    static template = "comunik_mail.Banner";
    static props = {};

    setup() {
        this.orm = useService("orm");
        this.busService = useService("bus_service");
        this.state = useState({ counters: [] });
        this.scheduleLoad = useDebounced(() => this.load(), 300);
        const onNotification = () => this.scheduleLoad();
        onWillStart(() => this.load());
        onMounted(() => {
            this.busService.subscribe("comunik_mail.banner", onNotification);
            if (!this.busService.isActive) {
                this.busService.start();
            }
        });
        onWillUnmount(() => this.busService.unsubscribe("comunik_mail.banner", onNotification));
    }

    async load() {
        const { counters } = await this.orm.call("comunik.mail.banner.config", "get_banner", []);
        this.state.counters = counters;
    }

    searchItem(counter) {
        return this.env.searchModel.getSearchItems(
            (item) => item.type === "filter" && item.name === counter.key
        )[0];
    }

    isActive(counter) {
        return Boolean(this.searchItem(counter)?.isActive);
    }

    onClick(counter) {
        const item = this.searchItem(counter);
        if (item) {
            this.env.searchModel.toggleSearchItem(item.id);
        }
    }
}

export class ComunikConversationListController extends ListController {
    static template = "comunik_mail.ConversationListView";
    static components = { ...ListController.components, ComunikBanner };
}

export class ComunikConversationKanbanController extends KanbanController {
    static template = "comunik_mail.ConversationKanbanView";
    static components = { ...KanbanController.components, ComunikBanner };
}

registry.category("views").add("comunik_conversation_list", {
    ...listView,
    Controller: ComunikConversationListController,
});
registry.category("views").add("comunik_conversation_kanban", {
    ...kanbanView,
    Controller: ComunikConversationKanbanController,
});
