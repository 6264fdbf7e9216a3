"""Figures for the province dashboard, computed in the database (grouped counts), scoped to the user."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import Substr

from qualitygov.core.models import Region


def dashboard_context(user) -> dict:
    """Counts by prefecture for the map, totals, and licences about to expire."""
    from qualitygov.registry.models import Licence, MarketEntity, Product

    entities = MarketEntity.objects.restrict(user)
    by_city = dict(
        entities.annotate(city=Substr("region_id", 1, 4)).values("city").annotate(n=Count("id")).values_list("city", "n")
    )
    cities = Region.objects.filter(level=Region.Level.CITY).order_by("code")
    map_data = [{"name": c.name, "code": c.code, "value": by_city.get(c.code[:4], 0)} for c in cities]
    by_status = dict(entities.values("status").annotate(n=Count("id")).values_list("status", "n"))
    days = settings.LICENCE_EXPIRY_WARNING_DAYS
    return {
        "map_data": map_data,
        "entity_total": sum(by_city.values()),
        "entity_operating": by_status.get(MarketEntity.Status.OPERATING, 0),
        "product_total": Product.objects.restrict(user).count(),
        "key_product_total": Product.objects.restrict(user).filter(is_key=True).count(),
        "licence_total": Licence.objects.restrict(user).filter(status=Licence.Status.VALID).count(),
        "expiring_total": Licence.objects.restrict(user).expiring_within(days).count(),
        "expiring_days": days,
        "expiring_soon": Licence.objects.restrict(user).expiring_within(days).select_related("entity")[:10],
        "scope_region": user.region if user.region_id else None,
    }
