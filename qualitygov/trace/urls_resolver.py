"""GS1 Digital Link paths at the site root (what a phone opens from a product's QR code), resolved to
the consumer lookup page: ``/01/{gtin}``, ``/01/{gtin}/10/{batch}``, ``/01/{gtin}/21/{serial}`` and
``/01/{gtin}/10/{batch}/21/{serial}``, each with or without a trailing slash and with data attributes
in the query string (``?17=261231``). URL names ``gs1-resolver:gtin``, ``:batch``, ``:serial`` and
``:batch_serial``."""

from django.urls import re_path

from qualitygov.trace import views_public

app_name = "gs1-resolver"

# A path segment: the GTIN is checked by the lookup (digits, length, check digit) to explain mistakes.
_SEGMENT = r"[^/]+"
resolver = views_public.ResolverView.as_view()

urlpatterns = [
    re_path(rf"^01/(?P<gtin>{_SEGMENT})/?$", resolver, name="gtin"),
    re_path(rf"^01/(?P<gtin>{_SEGMENT})/10/(?P<batch>{_SEGMENT})/?$", resolver, name="batch"),
    re_path(rf"^01/(?P<gtin>{_SEGMENT})/21/(?P<serial>{_SEGMENT})/?$", resolver, name="serial"),
    re_path(rf"^01/(?P<gtin>{_SEGMENT})/10/(?P<batch>{_SEGMENT})/21/(?P<serial>{_SEGMENT})/?$", resolver,
            name="batch_serial"),
]
