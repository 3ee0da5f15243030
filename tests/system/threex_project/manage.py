#!/usr/bin/env python
"""A project written for django-minio-backend 3.x, run unchanged against this package."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threex.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
