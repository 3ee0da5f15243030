from django import forms

from django_minio_backend.forms import DirectUploadField

from .models import Image, PrivateAttachment, PublicAttachment

MAX_IMAGE_SIZE = 10 * 1024 * 1024

KINDS = {
    "image": (Image, "image"),
    "private": (PrivateAttachment, "file"),
    "public": (PublicAttachment, "file"),
}


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            ("image", "Image (public bucket, plain URL)"),
            ("private", "Private file (presigned link)"),
            ("public", "Public file (plain URL)"),
        ]
    )
    title = forms.CharField(max_length=200)
    file = forms.FileField()

    def clean(self):
        data = super().clean()
        if data.get("kind") == "image" and data.get("file"):
            forms.ImageField().clean(data["file"])
        return data

    def save(self):
        model, field = KINDS[self.cleaned_data["kind"]]
        return model.objects.create(title=self.cleaned_data["title"], **{field: self.cleaned_data["file"]})


class DirectImageForm(forms.ModelForm):
    """The image goes from the browser straight to the bucket (see direct.py)."""

    image = DirectUploadField(
        model_field="gallery.Image.image", max_size=MAX_IMAGE_SIZE, content_types=["image/*"]
    )

    class Meta:
        model = Image
        fields = ["title", "image"]
