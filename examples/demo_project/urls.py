from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("uploads/", include("django_minio_backend.urls")),  # the direct-upload views
    path("", include("gallery.urls")),
]
