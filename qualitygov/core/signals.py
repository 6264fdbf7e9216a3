"""Per-object audit entries for every model built on ``BaseModel``."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from qualitygov.core import audit
from qualitygov.core.models import BaseModel


def _audited(sender) -> bool:
    return issubclass(sender, BaseModel) and audit.per_object_audit_enabled()


@receiver(pre_save)
def _remember_before(sender, instance, raw=False, **kwargs):
    if raw or not _audited(sender) or instance._state.adding:
        return
    old = sender._base_manager.filter(pk=instance.pk).first()
    instance._audit_before = audit.snapshot(old) if old is not None else None


@receiver(post_save)
def _log_save(sender, instance, created, raw=False, **kwargs):
    if raw or not _audited(sender):
        return
    after = audit.snapshot(instance)
    if created:
        audit.record("create", instance, after=after)
        return
    before, after = audit.diff(getattr(instance, "_audit_before", None), after)
    if before == {} and after == {}:
        return  # saved without a change: nothing to tell
    audit.record("update", instance, before=before, after=after)


@receiver(post_delete)
def _log_delete(sender, instance, **kwargs):
    if not _audited(sender):
        return
    audit.record("delete", instance, before=audit.snapshot(instance))
