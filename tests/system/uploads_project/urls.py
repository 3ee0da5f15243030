"""The admin, the direct-upload endpoints, a plain ModelForm page, and the counters."""

from django import forms
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles.views import serve
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import include, path

from django_minio_backend.forms import DirectUploadField

from .counting import COUNTS, peak_rss
from .models import Attachment


class AttachmentForm(forms.ModelForm):
    file = DirectUploadField(model_field="uploads_project.Attachment.file")

    class Meta:
        model = Attachment
        fields = ["title", "file"]


@login_required(login_url="/admin/login/")
def upload_page(request):
    form = AttachmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        row = form.save()
        return redirect(f"/saved/{row.pk}/")
    return render(request, "uploads_project/form.html", {"form": form})


def saved(request, pk):
    row = Attachment.objects.get(pk=pk)
    return HttpResponse(f'<a id="file" href="{row.file.url}">{row.file.name}</a>')


def stats(request):
    return JsonResponse({**COUNTS, "peak_rss": peak_rss()})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("uploads/", include("django_minio_backend.urls")),
    path("form/", upload_page),
    path("saved/<int:pk>/", saved),
    path("stats/", stats),
    path("static/<path:path>", serve, {"insecure": True}),
]
