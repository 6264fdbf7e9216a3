"""Small text helpers for messages shown in both languages."""

from django.utils.translation import pgettext


def join_list(values) -> str:
    """Join items with the list separator of the active language (Chinese 、, English ", ")."""
    return pgettext("list separator", "、").join(str(value) for value in values)
