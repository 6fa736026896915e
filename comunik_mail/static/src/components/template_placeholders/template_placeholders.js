import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { Component, onMounted, onWillStart, onWillUnmount, useRef, useState } from "@odoo/owl";

const TEXT_INPUTS = "textarea, input[type=text], input:not([type])";
const RICH_EDITOR = ".odoo-editor-editable";

/**
 * Side panel « Champs dynamiques » of the template form: each button inserts its placeholder
 * ({{fullname}}, {{email}}...) at the cursor of the field being edited (subject, rich email
 * content or plain SMS text), as if typed, so that every editor records it normally.
 * The buttons do not take the focus; if no field of the form was being edited, the text
 * goes at the cursor last left in one, else at the end of the content.
 */
export class TemplatePlaceholders extends Component {
    static template = "comunik_mail.TemplatePlaceholders";
    static props = { ...standardWidgetProps };

    setup() {
        this.orm = useService("orm");
        this.root = useRef("root");
        this.state = useState({ placeholders: [] });
        this.lastCursor = null;
        this.onFocusOut = this.onFocusOut.bind(this);
        onWillStart(async () => {
            this.state.placeholders = await this.orm.call("comunik.mail.template", "get_placeholders", []);
        });
        onMounted(() => document.addEventListener("focusout", this.onFocusOut, true));
        onWillUnmount(() => document.removeEventListener("focusout", this.onFocusOut, true));
    }

    get form() {
        return this.root.el?.closest(".o_form_renderer") || null;
    }

    /** The editable element of the form that ``el`` belongs to, if any. */
    editableOf(el) {
        const form = this.form;
        if (!form || !el || !el.closest || !form.contains(el)) {
            return null;
        }
        if (el.matches(TEXT_INPUTS) && !el.readOnly) {
            return el;
        }
        return el.closest(RICH_EDITOR);
    }

    onFocusOut(ev) {
        const el = this.editableOf(ev.target);
        if (!el) {
            return;
        }
        if (el.matches(TEXT_INPUTS)) {
            this.lastCursor = { el, start: el.selectionStart, end: el.selectionEnd };
        } else {
            const selection = document.getSelection();
            const range = selection.rangeCount ? selection.getRangeAt(0).cloneRange() : null;
            this.lastCursor = { el, range: range && el.contains(range.startContainer) ? range : null };
        }
    }

    /** Focus the content field of the template's type, cursor at the end. */
    focusContent() {
        const isSms = this.props.record.data.template_type === "sms";
        const el = this.form?.querySelector(
            isSms ? ".o_field_widget[name=body_text] textarea" : `.o_field_widget[name=body_html] ${RICH_EDITOR}`
        );
        if (!el) {
            return null;
        }
        el.focus();
        if (el.matches(TEXT_INPUTS)) {
            el.setSelectionRange(el.value.length, el.value.length);
        } else {
            const range = document.createRange();
            range.selectNodeContents(el.lastElementChild || el);
            range.collapse(false);
            document.getSelection().removeAllRanges();
            document.getSelection().addRange(range);
        }
        return el;
    }

    restoreCursor() {
        const cursor = this.lastCursor;
        if (!cursor || !cursor.el.isConnected) {
            return null;
        }
        cursor.el.focus();
        if (cursor.el.matches(TEXT_INPUTS)) {
            cursor.el.setSelectionRange(cursor.start, cursor.end);
        } else if (cursor.range) {
            document.getSelection().removeAllRanges();
            document.getSelection().addRange(cursor.range);
        }
        return cursor.el;
    }

    onMouseDown(ev) {
        // Keep the focus (and the cursor) in the field being edited.
        ev.preventDefault();
    }

    /** The character just before the cursor in ``el``. */
    charBeforeCursor(el) {
        if (el.matches(TEXT_INPUTS)) {
            return el.value.slice(0, el.selectionStart).slice(-1);
        }
        const selection = document.getSelection();
        if (!selection.rangeCount) {
            return "";
        }
        const before = document.createRange();
        before.selectNodeContents(el);
        const cursor = selection.getRangeAt(0);
        before.setEnd(cursor.startContainer, cursor.startOffset);
        return before.toString().slice(-1);
    }

    insert(token) {
        const target =
            this.editableOf(document.activeElement) || this.restoreCursor() || this.focusContent();
        if (!target) {
            return;
        }
        // Right after a word or a punctuation mark, the field comes as a new word: "Bonjour {{fullname}}".
        const text = /[\p{L}\p{N},;:!?.)]/u.test(this.charBeforeCursor(target)) ? ` ${token}` : token;
        // Inserted as typed text: the editors (and the undo history) see a normal input.
        if (!document.execCommand("insertText", false, text) && target.matches(TEXT_INPUTS)) {
            target.setRangeText(text, target.selectionStart, target.selectionEnd, "end");
            target.dispatchEvent(new Event("input", { bubbles: true }));
        }
    }
}

export const templatePlaceholders = {
    component: TemplatePlaceholders,
};

registry.category("view_widgets").add("comunik_template_placeholders", templatePlaceholders);
