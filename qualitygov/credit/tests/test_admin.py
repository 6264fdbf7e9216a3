"""The credit records in Django's admin render read-only for staff (scores, runs, models, lists)."""

import pytest
from django.urls import reverse

from qualitygov.credit import scoring

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["creditrecord", "scoremodel", "scoringrun", "entityscore", "listentry"])
def test_admin_changelists_render_and_offer_no_editing(client, django_user_model, registry, model):
    scoring.load_default_model()
    scoring.full_rescore()
    root = django_user_model.objects.create_superuser("root", "root@example.cn", "x-pass-123")
    client.force_login(root)
    response = client.get(reverse(f"admin:credit_{model}_changelist"))
    assert response.status_code == 200
    assert client.get(reverse(f"admin:credit_{model}_add")).status_code == 403
