from django.urls import path

from . import direct, views

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("direct/", direct.direct_upload, name="direct-upload"),
    path("direct/done/", direct.direct_upload_done, name="direct-upload-done"),
    path("health/", views.health, name="health"),
]
