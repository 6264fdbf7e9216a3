"""The consumer's pages (no sign-in): the lookup page at /public/trace/ and the GS1 Digital Link
resolver at the site root (/01/{gtin}[/10/{batch}][/21/{serial}]), both rendering ``trace.lookup``;
the public recall notices at /public/trace/recalls/ (search, newest first) and
/public/trace/recalls/{number}/, showing ``recalls.public_payload`` only.

The resolver is what a phone's camera opens from a QR code carrying a Digital Link on this platform's
host: it shows the same page as the lookup (200), a 404 page saying the product is not registered here,
or a 400 page explaining a malformed code. ``?linkType=all`` answers the GS1 Digital Link linkset
(RFC 9264 JSON) of the links this platform offers for the product.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from qualitygov.trace import lookup, recalls

TEMPLATE = "public/trace/lookup.html"
RECALL_PAGE_SIZE = 20
LINKSET_TYPE = "application/linkset+json"


def _render(request, code: str, digital_link: bool = False):
    context = {"code": code, "result": None, "failure": None, "digital_link": digital_link,
               "title": _("商品质量信息查询")}
    status = 200
    if code.strip() or digital_link:
        try:
            context["result"] = lookup.lookup(code)
            context["title"] = context["result"]["product"]["name"]
        except lookup.LookupFailed as failed:
            context["failure"] = failed
            status = failed.status
    return render(request, TEMPLATE, context, status=status)


class LookupView(View):
    """The phone-friendly page: a text box for the code, and the result below it."""

    def get(self, request):
        return _render(request, request.GET.get("code", ""))


class ResolverView(View):
    """A GS1 Digital Link path on this host (``/01/{gtin}/10/{batch}/21/{serial}?17=...``)."""

    def get(self, request, gtin: str, batch: str = "", serial: str = ""):
        path = f"/01/{quote(gtin, safe='')}"
        if batch:
            path += f"/10/{quote(batch, safe='')}"
        if serial:
            path += f"/21/{quote(serial, safe='')}"
        # Data attributes (AI digits) are part of the link; linkType and other words are resolver options.
        attributes = [(k, v) for k, v in request.GET.items() if k.isdecimal()]
        code = "https://id.gs1.org" + path + (f"?{urlencode(attributes)}" if attributes else "")
        if request.GET.get("linkType") == "all":
            return self.linkset(request, code)
        return _render(request, code, digital_link=True)

    def linkset(self, request, code: str):
        """The links this platform offers for the product (RFC 9264 linkset, GS1 link types)."""
        try:
            result = lookup.lookup(code)
        except lookup.LookupFailed as failed:
            return JsonResponse({"error": {"status": failed.status, "code": failed.code, "message": failed.message}},
                                status=failed.status, json_dumps_params={"ensure_ascii": False})
        page = request.build_absolute_uri(reverse("public-trace:lookup") + "?" + urlencode({"code": code}))
        title = result["product"]["name"]
        links = {"https://gs1.org/voc/pip": [{"href": page, "title": title, "type": "text/html",
                                               "hreflang": ["zh-CN", "en"]}],
                 "https://gs1.org/voc/defaultLink": [{"href": page, "title": title}]}
        if result["spot_checks"]:
            links["https://gs1.org/voc/certificationInfo"] = [{"href": page + "#spot-checks",
                                                               "title": _("监督抽查结果")}]
        if result["recalls"]:
            links["https://gs1.org/voc/recallStatus"] = [{"href": page + "#recalls", "title": _("召回信息")}]
        body = {"linkset": [{"anchor": result["code"]["identifier"], **links}]}
        return JsonResponse(body, content_type=LINKSET_TYPE, json_dumps_params={"ensure_ascii": False})


class RecallListView(View):
    """Published recall notices, newest first, with a search box (product, producer, batch or code)."""

    def get(self, request):
        search = request.GET.get("q", "").strip()[:200]
        page = Paginator(recalls.public_recalls(search), RECALL_PAGE_SIZE).get_page(request.GET.get("page"))
        query = urlencode({"q": search}) if search else ""
        return render(request, "public/trace/recall_list.html", {
            "title": _("缺陷产品召回公告"), "q": search, "page": page, "query": query,
            "rows": [recalls.public_payload(recall) for recall in page.object_list]})


class RecallDetailView(View):
    """One published recall notice by its number (an unpublished one does not exist here)."""

    def get(self, request, number: str):
        recall = recalls.public_recalls().filter(number=number).first()
        if recall is None:
            raise Http404(_("没有这份召回公告。"))
        payload = recalls.public_payload(recall)
        return render(request, "public/trace/recall_detail.html", {
            "title": _("召回公告 %(number)s") % {"number": recall.number}, "recall": payload})
