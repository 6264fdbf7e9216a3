"""The form of a new scoring-model version (province administrator): parameters as JSON."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qualitygov.credit.models import ScoreModel

JSON_WIDGET = {"class": "form-control font-monospace", "rows": 4}


class NewVersionForm(forms.Form):
    """Copies a model's parameters into editable fields; ``scoring.new_version`` validates them."""

    version = forms.CharField(label=_("新版本号"), max_length=32)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea({"class": "form-control",
                                                                                        "rows": 2}))
    base_score = forms.DecimalField(label=_("基础分"), max_digits=7, decimal_places=2)
    points = forms.JSONField(label=_("各类记录分值（JSON：信用事项 → 分值）"), widget=forms.Textarea(JSON_WIDGET))
    half_life_days = forms.JSONField(label=_("分值半衰期（JSON：信用事项或 * → 天数）"),
                                     widget=forms.Textarea(JSON_WIDGET))
    grade_thresholds = forms.JSONField(label=_("公示等级分数线（JSON：[[等级, 最低分], …]）"),
                                       widget=forms.Textarea(JSON_WIDGET))
    risk_thresholds = forms.JSONField(label=_("风险分类分数线（JSON：[[分类, 最低分], …]）"),
                                      widget=forms.Textarea(JSON_WIDGET))

    def __init__(self, *args, source: ScoreModel | None = None, **kwargs):
        if source is not None and "initial" not in kwargs:
            kwargs["initial"] = {"version": "", "description": source.description, "base_score": source.base_score,
                                 "points": source.points, "half_life_days": source.half_life_days,
                                 "grade_thresholds": source.grade_thresholds,
                                 "risk_thresholds": source.risk_thresholds}
        super().__init__(*args, **kwargs)
        self.fields["version"].widget.attrs["class"] = "form-control"
        self.fields["base_score"].widget.attrs["class"] = "form-control"
