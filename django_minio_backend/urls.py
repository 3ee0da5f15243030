"""The direct-upload endpoints: ``path("uploads/", include("django_minio_backend.urls"))``."""

from django.urls import path

from .uploads import views

app_name = "django_minio_backend"

urlpatterns = [
    path("direct/start/", views.start, name="direct-upload-start"),
    path("direct/sign/", views.sign, name="direct-upload-sign"),
    path("direct/complete/", views.complete, name="direct-upload-complete"),
    path("direct/abort/", views.abort, name="direct-upload-abort"),
]
