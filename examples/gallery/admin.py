from django.contrib import admin

from django_minio_backend.forms import DirectUploadAdminMixin

from .models import Image, PrivateAttachment, PublicAttachment


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("title", "image", "width", "height", "uploaded_at")


@admin.register(PrivateAttachment, PublicAttachment)
class AttachmentAdmin(DirectUploadAdminMixin, admin.ModelAdmin):
    """Attachments upload from the browser straight to their bucket (any size, staff users)."""

    list_display = ("title", "file", "uploaded_at")
