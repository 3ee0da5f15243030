"""Serving objects over HTTP: a streaming response with Range and conditional GET (``responses``)
and a view that serves private files by policy (``views``)."""

from .responses import ObjectResponse, astream_object, stream_object
from .views import authenticated, private_file_view

__all__ = ["ObjectResponse", "astream_object", "authenticated", "private_file_view", "stream_object"]
