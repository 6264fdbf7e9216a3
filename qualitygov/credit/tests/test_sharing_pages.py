"""The sharing pages (issue 4 item 7): the province administrator issues a key on a form and sees
the secret once, the key's page shows its recent reads, revoking stops it; the entity sees who read
its credit file, and another entity's user does not."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from qualitygov.conftest import PASSWORD
from qualitygov.core.models import User
from qualitygov.core.roles import Role
from qualitygov.credit import sharing
from qualitygov.credit.models import CreditAccessLog, SharingKey
from qualitygov.registry.models import EntityMembership

pytestmark = [pytest.mark.django_db]

FORM = {"name": "省金融局信贷审批查询", "department": "finance", "department_name": "吉林省地方金融管理局",
        "fields": ["uscc", "name", "grade", "records"], "rate_limit_per_minute": "30", "expires_on": ""}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def read_with(secret: str, entity, fields: str | None = None):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client.get(reverse("api:sharing-api:entity", args=[entity.uscc]), {"fields": fields} if fields else {})


def test_issue_a_key_on_the_form_and_see_the_secret_once(registry, users, login):
    client = login("admin")
    assert client.get(reverse("credit:sharingkey_add")).status_code == 200
    bad = client.post(reverse("credit:sharingkey_add"), FORM | {"fields": [], "rate_limit_per_minute": "0"})
    assert bad.status_code == 400
    assert "请至少选择一个可读字段" in bad.content.decode() and not SharingKey.objects.exists()
    response = client.post(reverse("credit:sharingkey_add"), FORM)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = SharingKey.objects.get()
    content = response.content.decode()
    secret = re.search(r'id="qg-secret" type="text" readonly value="([^"]+)"', content).group(1)
    assert secret.startswith(key.prefix + ".") and "只显示这一次" in content
    assert (key.fields, key.rate_limit_per_minute, key.issued_by) == (["name", "uscc", "grade", "records"], 30,
                                                                     users["admin"])
    # The secret is nowhere on the key's pages afterwards.
    for url in (reverse("credit:sharingkey_list"), reverse("credit:sharingkey_detail", args=[key.pk])):
        page = client.get(url).content.decode()
        assert key.prefix in page and secret not in page
    assert read_with(secret, registry["nanguan"]["entity"]).status_code == 200


def test_key_detail_shows_recent_reads_and_revoke_stops_the_key(registry, users, login):
    key, secret = sharing.issue_key("税务查询", "tax", "国家税务总局吉林省税务局", ["uscc", "name"], 10, None, users["admin"])
    entity = registry["yanji"]["entity"]
    assert read_with(secret, entity, "name").status_code == 200
    client = login("admin")
    detail = client.get(reverse("credit:sharingkey_detail", args=[key.pk])).content.decode()
    assert entity.name in detail and "主体名称" in detail
    response = client.post(reverse("credit:sharingkey_revoke", args=[key.pk]))
    assert response.status_code == 302
    assert not SharingKey.objects.get(pk=key.pk).active
    assert read_with(secret, entity).status_code == 401
    assert "已停用" in client.get(reverse("credit:sharingkey_list")).content.decode()
    assert client.get(reverse("credit:sharingkey_revoke", args=[key.pk])).status_code == 405


def test_the_entity_sees_who_read_its_file_and_another_entity_does_not(registry, users, client):
    _key, secret = sharing.issue_key("信贷查询", "finance", "吉林省地方金融管理局", ["uscc", "name", "records"], 10,
                                     None, users["admin"])
    nanguan = registry["nanguan"]["entity"]
    assert read_with(secret, nanguan, "name,records").status_code == 200
    entry = CreditAccessLog.objects.get()
    assert entry.entity == nanguan

    other = User.objects.create_user(username="chaoyang-ent", password=PASSWORD, role=Role.ENTERPRISE)
    EntityMembership.objects.create(user=other, entity=registry["chaoyang"]["entity"])

    assert client.login(username="enterprise", password=PASSWORD)
    page = client.get(reverse("credit:accesslog_list"))
    assert page.status_code == 200
    content = page.content.decode()
    assert "吉林省地方金融管理局" in content and "数据共享接口" in content
    assert "主体名称、公示的信用记录" in content  # the fields read, by their labels
    assert timezone.localtime(entry.accessed_at).strftime("%Y-%m-%d %H:%M:%S") in content

    client.logout()
    assert client.login(username="chaoyang-ent", password=PASSWORD)
    other_page = client.get(reverse("credit:accesslog_list")).content.decode()
    assert "吉林省地方金融管理局" not in other_page and "暂无查询记录" in other_page


def test_access_log_filters(registry, users, login):
    from qualitygov.credit.access_log import record_access

    record_access([registry["nanguan"]["entity"].pk], channel=CreditAccessLog.Channel.OFFICER, accessor="王科长",
                  fields=["records"])
    record_access([registry["chaoyang"]["entity"].pk], channel=CreditAccessLog.Channel.SHARING_API,
                  accessor="吉林省地方金融管理局", fields=["grade"])
    client = login("changchun")
    by_channel = client.get(reverse("credit:accesslog_list"), {"channel": "officer"}).content.decode()
    assert "王科长" in by_channel and "吉林省地方金融管理局" not in by_channel
    by_name = client.get(reverse("credit:accesslog_list"), {"q": registry["chaoyang"]["entity"].uscc}).content.decode()
    assert "吉林省地方金融管理局" in by_name and "王科长" not in by_name
