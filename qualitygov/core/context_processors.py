"""Navigation for the base layout; each module adds its menu in its AppConfig-free ``navigation.py``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from qualitygov.core.roles import actions_for

# Modules register their menus here, registry first; later modules append themselves.
MENUS: list[dict] = []


def register_menu(label, items, order: int = 100):
    """Add a top-level menu: ``items`` are (label, url name, model or None) triples."""
    MENUS.append({"label": label, "items": items, "order": order})
    MENUS.sort(key=lambda m: m["order"])


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"nav_menus": []}
    from django.urls import reverse

    menus = []
    for menu in MENUS:
        items = []
        for label, url_name, model in menu["items"]:
            if model is not None and not user.is_superuser and "view" not in actions_for(user.role, model):
                continue
            items.append({"label": label, "url": reverse(url_name)})
        if items:
            menus.append({"label": menu["label"], "items": items})
    return {"nav_menus": menus, "nav_dashboard_label": _("首页")}
