"""Data sharing in a real browser (issue 4 item 7): the province administrator issues a key on the
form and copies the secret shown once; a partner department reads a credit file with it; the entity
sees that read in its access log; the administrator revokes the key and it stops working."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from qualitygov.credit.models import CreditAccessLog, SharingKey

pytestmark = pytest.mark.browser


def test_issue_use_see_and_revoke_a_sharing_key(signed_in, new_context, live_server, users, registry):
    admin = signed_in(users["admin"])
    admin.goto(live_server.url + reverse("credit:sharingkey_list"))
    admin.click("#qg-issue-key")
    admin.wait_for_selector("#qg-key-form")
    admin.fill("#id_name", "浏览器测试：金融局信贷查询")
    admin.select_option("#id_department", "finance")
    admin.fill("#id_department_name", "吉林省地方金融管理局")
    # Submitting without fields is refused on the page, in Chinese, and no key is made.
    admin.click("#qg-key-form button[type=submit]")
    admin.wait_for_selector("text=请至少选择一个可读字段")
    assert not SharingKey.objects.exists()
    for field in ("uscc", "name", "records"):
        admin.check(f"#qg-key-form input[name=fields][value={field}]")
    admin.fill("#id_rate_limit_per_minute", "20")
    admin.click("#qg-key-form button[type=submit]")
    admin.wait_for_selector("#qg-secret-warning")
    secret = admin.input_value("#qg-secret")
    key = SharingKey.objects.get()
    assert secret.startswith(key.prefix + ".")

    # The partner department's system reads a credit file with the key.
    entity = registry["nanguan"]["entity"]
    url = live_server.url + reverse("api:sharing-api:entity", args=[entity.uscc])
    response = admin.request.get(url, headers={"Authorization": f"Api-Key {secret}"}, params={"fields": "name"})
    assert response.status == 200 and response.json()["entity"] == {"name": entity.name}
    assert CreditAccessLog.objects.filter(entity=entity, key=key).count() == 1

    # The entity sees who read its file.
    company = signed_in(users["enterprise"], new_context())
    company.goto(live_server.url + reverse("credit:accesslog_list"))
    row = company.locator("#qg-accesslog tbody tr").first
    assert "吉林省地方金融管理局" in row.inner_text() and "主体名称" in row.inner_text()

    # The administrator sees the read on the key's page and revokes the key.
    admin.click("text=我已保存密钥")
    admin.wait_for_url(re.compile(r"/credit/sharing/keys/\d+/$"))
    assert entity.name in admin.inner_text("#qg-key-log")
    admin.click("#qg-revoke-form button[type=submit]")
    admin.wait_for_selector("text=已停用密钥")
    assert not SharingKey.objects.get(pk=key.pk).active
    refused = admin.request.get(url, headers={"Authorization": f"Api-Key {secret}"})
    assert refused.status == 401 and refused.json()["error"]["code"] == "invalid_key"
