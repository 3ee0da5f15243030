"""Create the demo admin user and a few files, so the gallery has something to show at first start."""

import io
import math

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from gallery.models import Image, PrivateAttachment, PublicAttachment

PALETTES = {
    "Sunrise": ((255, 183, 77), (199, 46, 73)),
    "Lagoon": ((38, 166, 154), (21, 67, 96)),
    "Meadow": ((174, 213, 129), (46, 125, 50)),
}


def demo_png(title: str, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """A 480x320 gradient with a sun and the title: a real PNG, made here, no download."""
    width, height = 480, 320
    picture = PILImage.new("RGB", (width, height))
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        mix = y / (height - 1)
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(round(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True)),
        )
    draw.ellipse((330, 40, 420, 130), fill=(255, 245, 200))
    hills = [(x, 250 + 30 * math.sin(x / 60)) for x in range(0, width + 1, 10)]
    draw.polygon([(0, height), *hills, (width, height)], fill=tuple(c // 2 for c in bottom))
    draw.text((20, 20), title, fill=(255, 255, 255), font=ImageFont.load_default(size=36))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


class Command(BaseCommand):
    help = "Create the demo admin user and seed images and files (only into an empty database)."

    def handle(self, *args, **options):
        user_model = get_user_model()
        if not user_model.objects.filter(username=settings.DEMO_ADMIN_USER).exists():
            user_model.objects.create_superuser(
                username=settings.DEMO_ADMIN_USER, email="", password=settings.DEMO_ADMIN_PASSWORD
            )
            self.stdout.write(f"created admin user {settings.DEMO_ADMIN_USER!r}")
        if Image.objects.exists():
            self.stdout.write("database already has images; not seeding")
            return
        for title, (top, bottom) in PALETTES.items():
            Image.objects.create(
                title=title, image=ContentFile(demo_png(title, top, bottom), f"{title.lower()}.png")
            )
        PublicAttachment.objects.create(
            title="Public readme",
            file=ContentFile(b"Anyone with this URL can read this file.\n", "readme.txt"),
        )
        PrivateAttachment.objects.create(
            title="Private notes",
            file=ContentFile(b"Only signed-in users get a presigned link to this file.\n", "notes.txt"),
        )
        self.stdout.write(f"seeded {len(PALETTES)} images, 1 public and 1 private file")
