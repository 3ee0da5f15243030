from django.urls import path

from django_minio_backend.serving import authenticated, private_file_view

from . import direct, views
from .storages import private_storage

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("direct/", direct.direct_upload, name="direct-upload"),
    path("health/", views.health, name="health"),
    # A private file through Django, for signed-in users only, with Range and ETag (see
    # docs/serving.md); mode="redirect" (the default) would send a presigned URL instead.
    path(
        "files/<path:name>",
        private_file_view(private_storage, permission=authenticated, mode="stream", as_attachment=True),
        name="private-file",
    ),
]
