"""Back-office maintenance of the catalogue in Django's admin renders with the demo rules."""

from __future__ import annotations

import pytest

from qualitygov.inspection.catalogue import load_demo_rules
from qualitygov.inspection.models import ImplementationRule, RuleVersion


@pytest.mark.django_db
def test_admin_lists_and_opens_rules_and_versions(client, django_user_model):
    load_demo_rules()
    admin = django_user_model.objects.create_superuser("root", "root@example.cn", "x-pass-123")
    client.force_login(admin)
    rule = ImplementationRule.objects.get(category_id="0602")
    version = RuleVersion.objects.filter(rule=rule).first()
    for url in ("/admin/inspection/implementationrule/", f"/admin/inspection/implementationrule/{rule.pk}/change/",
                "/admin/inspection/ruleversion/", f"/admin/inspection/ruleversion/{version.pk}/change/",
                "/admin/inspection/supplierinspectionstate/"):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/admin/inspection/ruleversion/{version.pk}/change/").content.decode()
    assert "GB/T 1499.2-2018" in page and "屈服强度" in page
