"""Credit score pages (issue 4, items 2-3): scoring models, runs and an entity's credit file.

Models and runs are for officer roles (``scoring.sees_risk_class``); the province administrator also
creates versions, activates one and starts a full rescoring. The credit file page is open to
whoever may read the entity's credit records (an enterprise user only its own entity); the internal
risk class appears for officer roles only, and reads by anyone but the entity's own users are
logged. Every rule is ``credit.scoring``'s.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from qualitygov.core.roles import Role
from qualitygov.credit import access_log, scoring
from qualitygov.credit.forms_scores import NewVersionForm
from qualitygov.credit.models import (
    CreditAccessLog,
    CreditRecord,
    EntityScore,
    GradeChange,
    ListEntry,
    ScoreHistory,
    ScoreModel,
    ScoringRun,
)

RISK_SCALE = ["A", "B", "C", "D"]


class PageMixin(LoginRequiredMixin):
    """Signed-in page users; ``officers_only`` pages need an officer role."""

    officers_only = True

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.can_use_pages:
            raise PermissionDenied(_("您的账号只能通过开放接口访问数据。"))
        if self.officers_only and not scoring.sees_risk_class(request.user):
            raise PermissionDenied(_("只有监管人员可以查看信用评分模型和评分批次。"))
        return super().dispatch(request, *args, **kwargs)

    def require_admin(self):
        if not scoring.may_manage_models(self.request.user):
            raise PermissionDenied(_("只有省级管理员可以管理信用评分模型。"))


def _refusals(exc: ValidationError) -> list[str]:
    return [str(message) for message in exc.messages]


class ScoreModelListView(PageMixin, View):
    def get(self, request):
        models = ScoreModel.objects.order_by("-created")
        return render(request, "credit/scores/scoremodel_list.html",
                      {"title": _("信用评分模型"), "models": models,
                       "can_manage": scoring.may_manage_models(request.user)})


class ScoreModelDetailView(PageMixin, View):
    """A model's parameters and runs; POST ``activate`` or ``rescore`` (province administrator)."""

    def get(self, request, pk):
        return self._render(get_object_or_404(ScoreModel, pk=pk))

    def _render(self, model, status=200):
        points = sorted(model.points.items())
        half_lives = sorted(model.half_life_days.items())
        context = {"title": _("信用评分模型 %(version)s") % {"version": model.version}, "object": model,
                   "points": points, "half_lives": half_lives,
                   "runs": model.runs.order_by("-started_at", "-id")[:50],
                   "can_manage": scoring.may_manage_models(self.request.user)}
        return render(self.request, "credit/scores/scoremodel_detail.html", context, status=status)

    def post(self, request, pk):
        self.require_admin()
        model = get_object_or_404(ScoreModel, pk=pk)
        step = request.POST.get("step")
        try:
            if step == "activate":
                scoring.activate_model(model)
                messages.success(request, _("已启用评分模型 %(version)s。") % {"version": model.version})
                return HttpResponseRedirect(reverse("credit:scoremodel_detail", args=[model.pk]))
            if step == "rescore":
                run = scoring.full_rescore(user=request.user)
                messages.success(request, _("全量重新评分完成：%(count)s 个市场主体。") % {"count": run.entity_count})
                return HttpResponseRedirect(reverse("credit:scoringrun_detail", args=[run.pk]))
        except ValidationError as exc:
            for message in _refusals(exc):
                messages.error(request, message)
            return self._render(model, status=400)
        except Exception as exc:  # a failed run is recorded; say so instead of an error page
            messages.error(request, _("重新评分失败，原评分保持不变：%(error)s") % {"error": exc})
            return self._render(model, status=500)
        raise PermissionDenied(_("未知的操作。"))


class NewVersionView(PageMixin, View):
    """A new draft version copied from this one, parameters editable (province administrator)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.can_use_pages:
            self.require_admin()
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        source = get_object_or_404(ScoreModel, pk=pk)
        return self._render(source, NewVersionForm(source=source))

    def post(self, request, pk):
        source = get_object_or_404(ScoreModel, pk=pk)
        form = NewVersionForm(request.POST, source=source)
        if form.is_valid():
            try:
                model = scoring.new_version(source, **form.cleaned_data)
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.error_dict.items():
                        for error in errors:
                            form.add_error(field if field in form.fields else None, error.messages[0])
                else:
                    for message in _refusals(exc):
                        form.add_error(None, message)
            else:
                messages.success(request, _("已新建评分模型草案 %(version)s。") % {"version": model.version})
                return HttpResponseRedirect(reverse("credit:scoremodel_detail", args=[model.pk]))
        return self._render(source, form, status=400)

    def _render(self, source, form, status=200):
        return render(self.request, "credit/scores/scoremodel_new_version.html",
                      {"title": _("从 %(version)s 新建模型版本") % {"version": source.version}, "source": source,
                       "form": form}, status=status)


class ScoringRunListView(PageMixin, View):
    def get(self, request):
        runs = ScoringRun.objects.select_related("model", "triggered_by").order_by("-started_at", "-id")[:200]
        return render(request, "credit/scores/scoringrun_list.html", {"title": _("信用评分批次"), "runs": runs})


class ScoringRunDetailView(PageMixin, View):
    def get(self, request, pk):
        run = get_object_or_404(ScoringRun.objects.select_related("model", "triggered_by"), pk=pk)
        grades = [(grade, (run.grade_distribution or {}).get(grade, 0)) for grade in scoring.Grade.values]
        risks = [(risk, (run.risk_distribution or {}).get(risk, 0)) for risk in RISK_SCALE]
        return render(request, "credit/scores/scoringrun_detail.html",
                      {"title": str(run), "object": run, "grades": grades, "risks": risks,
                       "grade_changes": run.grade_changes.select_related("entity")[:100]})


class EntityCreditView(PageMixin, View):
    """An entity's credit file: score, grade, explanation, records, list status, grade history."""

    officers_only = False

    def get(self, request, pk):
        user = request.user
        entity = get_object_or_404(scoring.entities_for(user).select_related("region"), pk=pk)
        score = EntityScore.objects.filter(entity=entity).select_related("model", "run").first()
        explanation = None
        if score is not None:
            explanation = scoring.explain(entity)
        show_risk = scoring.sees_risk_class(user)
        if explanation is not None and not show_risk:
            explanation = scoring.public_explanation(explanation)
        for line in explanation["records"] if explanation else ():
            line["state_label"] = CreditRecord.State(line["state"]).label
        records = CreditRecord.objects.restrict(user).filter(entity=entity).order_by("-occurred_on", "-id")
        if user.role != Role.ENTERPRISE:
            access_log.record_access([entity.pk], channel=CreditAccessLog.Channel.OFFICER,
                                     accessor=user.get_full_name() or user.username,
                                     fields=["score", "grade", "records"], user=user)
        context = {"title": _("%(name)s 的信用档案") % {"name": entity.name}, "entity": entity, "score": score,
                   "explanation": explanation, "show_risk": show_risk, "records": records[:200],
                   "entries": ListEntry.objects.filter(entity=entity).order_by("-listed_on"),
                   "grade_changes": GradeChange.objects.filter(entity=entity).select_related("run")[:50],
                   "history": ScoreHistory.objects.filter(entity=entity).select_related("model")[:24]}
        return render(request, "credit/scores/entity_credit.html", context)
