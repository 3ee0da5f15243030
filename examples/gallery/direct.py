"""Direct browser upload: the file goes from the browser to the bucket, never through Django.

GET /direct/ hands out a presigned POST policy for one object name the server chose; the page
posts the file to the S3 server with it, then POSTs to /direct/done/, which checks that the
object arrived (one HEAD) and records it as an Image.
"""

import uuid
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from django_minio_backend.errors import UploadVerificationError

from .models import Image
from .storages import image_storage

MAX_IMAGE_SIZE = 10 * 1024 * 1024
SESSION_KEY = "direct_upload_name"


@login_required
@require_GET
def direct_upload(request: HttpRequest) -> HttpResponse:
    name = f"direct/{uuid.uuid4().hex}"
    grant = image_storage().presigned_post(
        name, max_size=MAX_IMAGE_SIZE, content_type="image/*", expires=timedelta(minutes=15)
    )
    request.session[SESSION_KEY] = name
    return render(request, "gallery/direct.html", {"grant": grant, "max_size": MAX_IMAGE_SIZE})


@login_required
@require_POST
def direct_upload_done(request: HttpRequest) -> HttpResponse:
    name = request.session.pop(SESSION_KEY, None)
    if name is None:
        return HttpResponseBadRequest("No upload was granted; reload the page.")
    try:
        image_storage().verify_upload(name, max_size=MAX_IMAGE_SIZE)
    except FileNotFoundError:
        return HttpResponseBadRequest("The storage did not accept the file (too large, or not an image?).")
    except UploadVerificationError as error:
        return HttpResponseBadRequest(str(error))
    image = Image.objects.create(title=request.POST.get("title") or "Direct upload", image=name)
    return JsonResponse({"name": name, "url": image.image.url})
