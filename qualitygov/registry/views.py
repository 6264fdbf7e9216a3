"""Registry pages, declared from the generic views (queryset, filterset, table, form)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.views import ObjectDetailView, ObjectListView
from qualitygov.registry import filtersets, tables
from qualitygov.registry.models import Licence, MarketEntity, Product, QualityPerson

ENTITY_QS = MarketEntity.objects.select_related("region", "region__parent", "industry")
PERSON_QS = QualityPerson.objects.select_related("entity")
PRODUCT_QS = Product.objects.select_related("producer", "category")
LICENCE_QS = Licence.objects.select_related("entity")

ENTITY_EXPORT = [("uscc", _("统一社会信用代码")), ("name", _("名称")), ("legal_representative", _("法定代表人")),
                 ("region_id", _("区划代码")), ("region__name", _("所在区划")), ("industry_id", _("行业代码")),
                 ("industry__name", _("所属行业")), ("address", _("住所")), ("size_class", _("企业规模")),
                 ("registration_date", _("成立日期")), ("status", _("登记状态")), ("phone", _("联系电话"))]
PERSON_EXPORT = [("entity__uscc", _("统一社会信用代码")), ("entity__name", pgettext_lazy("field", "市场主体")), ("name", _("姓名")),
                 ("position", _("职务")), ("phone", _("联系电话")), ("email", _("电子邮箱")),
                 ("appointed_on", _("任职日期"))]
PRODUCT_EXPORT = [("gtin", _("商品条码（GTIN）")), ("name", _("产品名称")), ("brand", _("商标品牌")),
                  ("model", _("规格型号")), ("category_id", _("类别代码")), ("category__name", _("产品类别")),
                  ("producer__uscc", _("生产者统一社会信用代码")), ("producer__name", _("生产者")),
                  ("is_key", _("重点监管产品"))]
LICENCE_EXPORT = [("kind", _("证书类型")), ("number", _("证书编号")), ("entity__uscc", _("统一社会信用代码")),
                  ("entity__name", _("持证主体")), ("issuer", _("发证机关")), ("scope", _("许可/认证范围")),
                  ("issued_on", _("发证日期")), ("valid_until", _("有效期至")), ("status", _("证书状态"))]


class EntityDetailView(ObjectDetailView):
    """An entity's file: its quality persons, products and licences beside its registered facts."""

    queryset = ENTITY_QS

    def get_extra_context(self, obj):
        user = self.request.user
        return {
            "quality_persons": QualityPerson.objects.restrict(user).filter(entity=obj),
            "products": Product.objects.restrict(user).filter(producer=obj).select_related("category")[:100],
            "product_count": Product.objects.restrict(user).filter(producer=obj).count(),
            "licences": Licence.objects.restrict(user).filter(entity=obj),
        }


class ExpiringLicenceListView(ObjectListView):
    """Valid licences that expire within N days (``?expiring_within=``, default from settings)."""

    queryset = LICENCE_QS
    filterset_class = filtersets.LicenceFilterSet
    table_class = tables.LicenceTable
    export_columns = LICENCE_EXPORT
    title = _("即将到期的许可证与证书")

    def get(self, request, *args, **kwargs):
        if "expiring_within" not in request.GET:
            query = request.GET.copy()
            query["expiring_within"] = str(settings.LICENCE_EXPIRY_WARNING_DAYS)
            request.GET = query
        return super().get(request, *args, **kwargs)
