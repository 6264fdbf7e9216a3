"""Template tags of the complaints pages: how a legal deadline was counted (``clocks.deadline_note``)."""

from __future__ import annotations

from django import template

from qualitygov.complaints import clocks

register = template.Library()


@register.simple_tag
def accept_due_note(received_on, accept_due_on) -> str:
    """How the 7-working-day acceptance deadline (Art. 14) was counted from the day of receipt: the
    holidays it skipped and the make-up working days it counted; empty without both dates."""
    return clocks.deadline_note(received_on, accept_due_on, clocks.ACCEPT_DAYS)
