"""The admin door: upload, dry-run report, confirm, progress, result (views stay thin)."""

from __future__ import annotations

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from core import outbox

from . import engine
from .forms import ImportForm
from .layouts import ImportFileError, template_csv
from .models import ImportRun
from .tasks import progress_key

PERMISSION = "imports.import_artworks"


def can_import(user) -> bool:
    return user.is_active and user.has_perm(PERMISSION)


def _guard(request) -> None:
    if not can_import(request.user):
        raise PermissionDenied


def index(request):
    _guard(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload, artists_upload = form.cleaned_data["file"], form.cleaned_data["artists_file"]
        data = upload.read()
        artists = (artists_upload.read(), artists_upload.name) if artists_upload else None
        try:
            report = engine.run(
                data, upload.name, artists=artists, layout=form.cleaned_data["layout"] or None,
                dry_run=True,
            )  # fmt: skip
        except ImportFileError as error:
            form.add_error("file", str(error))
        else:
            upload.seek(0)
            if artists_upload:
                artists_upload.seek(0)
            run = ImportRun.objects.create(
                created_by=request.user,
                file=upload,
                artists_file=artists_upload or "",
                original_name=upload.name[:255],
                layout=report.layout,
                source=report.source,
                rows_total=sum(report.counts.values()),
                dry_run_report=report.as_dict(),
            )
            return redirect("imports_run", run.pk)
    runs = ImportRun.objects.select_related("created_by")[:20]
    return TemplateResponse(request, "imports/index.html", {"form": form, "runs": runs})


def run_detail(request, pk: int):
    _guard(request)
    run = get_object_or_404(ImportRun, pk=pk)
    done, total = cache.get(progress_key(run.pk)) or [run.rows_done, run.rows_total]
    return TemplateResponse(
        request,
        "imports/run.html",
        {
            "run": run,
            "check": run.dry_run_report,
            "result": run.report,
            "done": done,
            "total": total,
            "percent": int(100 * done / total) if total else 0,
            "working": run.status in (ImportRun.Status.QUEUED, ImportRun.Status.RUNNING),
        },
    )


@require_POST
def confirm(request, pk: int):
    _guard(request)
    with transaction.atomic():
        run = get_object_or_404(ImportRun.objects.select_for_update(), pk=pk)
        if run.status == ImportRun.Status.CHECKED:  # a second click changes nothing
            run.status = ImportRun.Status.QUEUED
            run.save(update_fields=["status"])
            outbox.enqueue("imports.tasks.run_import", run.pk)
    return redirect("imports_run", run.pk)


def template(request):
    _guard(request)
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="artspot-import-template.csv"'
    return response
