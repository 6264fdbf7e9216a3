"""Template helpers shared by every module's pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def audit_rows(entry):
    """(field label, before, after) rows of an audit entry, with field names and choice labels translated."""
    model = entry.content_type.model_class() if entry.content_type_id else None
    before = entry.before or {}
    after = entry.after or {}
    rows = []
    for name in list(dict.fromkeys([*after.keys(), *before.keys()])):
        label, old, new = name, before.get(name), after.get(name)
        if model is not None:
            try:
                field = model._meta.get_field(name)
            except Exception:
                field = None
            if field is not None:
                label = str(field.verbose_name)
                if field.choices:
                    choices = {k: str(v) for k, v in field.flatchoices}
                    old, new = choices.get(old, old), choices.get(new, new)
        rows.append((label, old, new))
    return rows
