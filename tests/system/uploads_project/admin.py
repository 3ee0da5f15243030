from django.contrib import admin

from django_minio_backend.forms import DirectUploadAdminMixin

from .models import Attachment


@admin.register(Attachment)
class AttachmentAdmin(DirectUploadAdminMixin, admin.ModelAdmin):
    list_display = ["title", "file"]
