from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ComunikMailTemplateFolder(models.Model):
    """Folder of the template tree (guide: « Arborescence des modèles », « + Ajouter dossier »):
    folders may hold sub-folders, shown as a tree next to the templates."""

    _name = "comunik.mail.template.folder"
    _description = "Template Folder"
    _parent_name = "parent_id"
    _parent_store = True
    _rec_name = "complete_name"
    _order = "complete_name, id"

    name = fields.Char(required=True)
    complete_name = fields.Char("Full Name", compute="_compute_complete_name", recursive=True, store=True)
    parent_id = fields.Many2one("comunik.mail.template.folder", "Parent Folder", index=True, ondelete="cascade")
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("comunik.mail.template.folder", "parent_id", "Sub-folders")
    template_ids = fields.One2many("comunik.mail.template", "folder_id", "Templates")
    template_count = fields.Integer("Number of Templates", compute="_compute_template_count")

    def _has_field_access(self, field, operation):
        """The full name is computed from the parents: never written by hand."""
        if operation == "write" and field.name == "complete_name" and not self.env.su:
            return False
        return super()._has_field_access(field, operation)

    @api.depends("name", "parent_id.complete_name")
    def _compute_complete_name(self):
        for folder in self:
            if folder.parent_id:
                folder.complete_name = f"{folder.parent_id.complete_name} / {folder.name}"
            else:
                folder.complete_name = folder.name

    def _compute_template_count(self):
        counts = dict(
            self.env["comunik.mail.template"]._read_group([("folder_id", "in", self.ids)], ["folder_id"], ["__count"])
        )
        for folder in self:
            folder.template_count = counts.get(folder, 0)

    @api.constrains("parent_id")
    def _check_parent_id(self):
        if self._has_cycle():
            raise ValidationError(self.env._("A folder cannot be inside one of its own sub-folders."))

    def action_open_templates(self):
        """« + Ajouter dossier » dialog: the folder is created, the template tree shows it, selected."""
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("comunik_mail.action_comunik_mail_template")
        action["context"] = {"searchpanel_default_folder_id": self.id, "default_folder_id": self.id}
        action["target"] = "main"
        return action
