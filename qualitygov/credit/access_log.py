"""Who looked at an entity's credit file (issue 4, item 7): one function every reader calls.

Sharing partners (by API key), data-consumer users and officers opening a credit file are logged;
the entity sees its own entries. Writes are one bulk insert however many entities a request reads.
"""

from __future__ import annotations

from django.utils import timezone

from qualitygov.credit.models import CreditAccessLog

__all__ = ["record_access"]


def record_access(entity_ids, *, channel: str, accessor: str, fields=(), key=None, user=None,
                  purpose: str = "") -> int:
    """Log one read of each entity in ``entity_ids`` by ``accessor`` (a department or a user's name)
    through ``channel`` (``CreditAccessLog.Channel``), naming the ``fields`` read. Returns the count."""
    now = timezone.now()
    rows = [CreditAccessLog(entity_id=entity_id, accessed_at=now, channel=channel, key=key, user=user,
                            accessor=accessor[:160], fields=sorted(set(fields)), purpose=(purpose or "")[:200])
            for entity_id in dict.fromkeys(entity_ids)]
    CreditAccessLog.objects.bulk_create(rows, batch_size=500)
    return len(rows)
