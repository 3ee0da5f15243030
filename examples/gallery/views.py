from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from .forms import UploadForm
from .models import Image, PrivateAttachment, PublicAttachment


def gallery(request: HttpRequest) -> HttpResponse:
    """Public images by plain URL; private files by presigned link (signed-in users only)."""
    form = UploadForm()
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"/admin/login/?next={request.path}")
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            saved = form.save()
            messages.success(request, f"Uploaded {saved.title!r}.")
            return redirect("gallery")
    context = {
        "form": form,
        "images": Image.objects.order_by("-uploaded_at"),
        "public_files": PublicAttachment.objects.order_by("-uploaded_at"),
        "private_files": PrivateAttachment.objects.order_by("-uploaded_at")
        if request.user.is_authenticated
        else PrivateAttachment.objects.none(),
    }
    return render(request, "gallery/index.html", context)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when the S3 server answers an authenticated request in time, else 503."""
    status = default_storage.is_minio_available()
    return JsonResponse({"minio": bool(status), "details": status.details}, status=200 if status else 503)
