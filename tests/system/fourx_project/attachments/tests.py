"""The project's own tests, as a 4.x user would write them: upload, size, name and URL."""

import uuid
from urllib.request import urlopen

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import TestCase

from django_minio_backend.models import MinioBackend, MinioBackendStatic, get_iso_date

from .models import Document, PrivateAttachment, PublicAttachment


def fetch(url: str) -> bytes:
    with urlopen(url, timeout=10) as response:  # the test server on 127.0.0.1
        return response.read()


class AttachmentTests(TestCase):
    def upload(self, model, data: bytes):
        filename = f"{uuid.uuid4().hex[:10]}.txt"
        row = model.objects.create(file=ContentFile(data, name=filename))
        self.addCleanup(row.file.delete, save=False)
        return row, filename

    def test_private_attachment_goes_to_a_dated_name_in_the_private_bucket(self):
        row, filename = self.upload(PrivateAttachment, b"private bytes")
        row.refresh_from_db()
        self.assertEqual(row.file.name, f"{get_iso_date()}/{filename}")
        self.assertEqual(row.file.size, len(b"private bytes"))
        self.assertEqual(row.file.storage.bucket, "django-backend-dev-private")
        self.assertIn("X-Amz-Signature=", row.file.url)
        self.assertEqual(fetch(row.file.url), b"private bytes")

    def test_public_attachment_has_a_plain_url(self):
        row, filename = self.upload(PublicAttachment, b"public bytes")
        self.assertEqual(row.file.name, f"{get_iso_date()}/{filename}")
        self.assertEqual(row.file.size, len(b"public bytes"))
        self.assertNotIn("X-Amz-Signature", row.file.url)
        self.assertEqual(fetch(row.file.url), b"public bytes")

    def test_default_storage_uses_the_default_bucket(self):
        row, filename = self.upload(Document, b"document")
        self.assertIsInstance(row.file.storage, MinioBackend)
        self.assertEqual(row.file.storage.bucket, "my-media-files-bucket")
        self.assertEqual(row.file.name, f"documents/{filename}")
        self.assertEqual(fetch(row.file.url), b"document")

    def test_each_alias_reads_its_own_options(self):
        static = storages["staticfiles"]
        self.assertIsInstance(static, MinioBackendStatic)
        self.assertEqual((static.storage_name, static.bucket), ("staticfiles", "my-static-files-bucket"))
        self.assertEqual(storages["default"].storage_name, "default")
        self.assertEqual(static.options.url_caching_enabled, False)  # not inherited from "default"
