"""``{{ region|authority }}``: the name of a region's market regulation authority (``routing.authority_name``)."""

from django import template

from qualitygov.complaints.routing import authority_name

register = template.Library()


@register.filter
def authority(region) -> str:
    """吉林省市场监督管理厅, 长春市南关区市场监督管理局, … for a handling unit's region."""
    return authority_name(region)
