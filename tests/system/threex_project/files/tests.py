"""The project's own tests: uploads through the field's instance and the default storage, static URLs."""

import uuid
from urllib.request import urlopen

from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import TestCase

from django_minio_backend.models import MinioBackend, MinioBackendStatic, get_iso_date

from .models import Document, PrivateAttachment


def fetch(url: str) -> bytes:
    with urlopen(url, timeout=10) as response:  # the test server on 127.0.0.1
        return response.read()


class ThreeXTests(TestCase):
    def upload(self, model, data: bytes):
        filename = f"{uuid.uuid4().hex[:10]}.txt"
        row = model.objects.create(file=ContentFile(data, name=filename))
        self.addCleanup(row.file.delete, save=False)
        return row, filename

    def test_field_with_a_storage_instance(self):
        row, filename = self.upload(PrivateAttachment, b"private bytes")
        row.refresh_from_db()
        self.assertEqual(row.file.name, f"{get_iso_date()}/{filename}")
        self.assertEqual(row.file.size, len(b"private bytes"))
        self.assertEqual(row.file.storage.bucket, "django-backend-dev-private")
        self.assertIn("X-Amz-Signature=", row.file.url)
        self.assertEqual(fetch(row.file.url), b"private bytes")

    def test_default_storage_is_the_media_files_bucket(self):
        self.assertEqual(
            (default_storage.storage_name, default_storage.bucket), ("default", "my-media-files-bucket")
        )
        row, _ = self.upload(Document, b"document")
        self.assertIsInstance(row.file.storage, MinioBackend)
        self.assertEqual(row.file.storage.bucket, "my-media-files-bucket")  # MINIO_MEDIA_FILES_BUCKET
        self.assertFalse(row.file.storage.is_bucket_public)
        self.assertEqual(fetch(row.file.url), b"document")

    def test_collected_static_file_is_served_from_the_public_static_bucket(self):
        self.assertEqual(staticfiles_storage.bucket, "my-static-files-bucket")
        self.assertIsInstance(staticfiles_storage._wrapped, MinioBackendStatic)
        url = staticfiles_storage.url("files/site.css")
        self.assertNotIn("X-Amz-Signature", url)
        self.assertEqual(fetch(url), b"body { color: #333; }\n")
