from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "qualitygov.registry"
    label = "registry"
    verbose_name = _("市场主体登记")

    def ready(self):
        from qualitygov.core.context_processors import register_menu
        from qualitygov.registry.models import Licence, MarketEntity, Product, QualityPerson

        register_menu(_("市场主体"), [
            (_("市场主体"), "registry:marketentity_list", MarketEntity),
            (_("质量负责人"), "registry:qualityperson_list", QualityPerson),
            (_("产品"), "registry:product_list", Product),
            (_("许可证与证书"), "registry:licence_list", Licence),
            (_("即将到期证书"), "registry:licence_expiring", Licence),
        ], order=10)
