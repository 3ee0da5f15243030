"""Direct browser upload with the batteries: the image goes from the browser to the bucket.

The form's DirectUploadField renders the widget; its script asks the package's views
(``include("django_minio_backend.urls")``) for a grant, sends the file straight to the bucket and
puts the signed value it gets back into the form. Django receives none of the file's bytes; the
field checks the value and the object, and the form saves the row.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .forms import MAX_IMAGE_SIZE, DirectImageForm


@login_required
def direct_upload(request: HttpRequest) -> HttpResponse:
    form = DirectImageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        image = form.save()
        messages.success(request, f"Uploaded {image.title!r} straight to the bucket.")
        return redirect("gallery")
    return render(request, "gallery/direct.html", {"form": form, "max_size": MAX_IMAGE_SIZE})
