from django.contrib import admin

from .models import Image, PrivateAttachment, PublicAttachment


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("title", "image", "width", "height", "uploaded_at")


@admin.register(PrivateAttachment, PublicAttachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("title", "file", "uploaded_at")
