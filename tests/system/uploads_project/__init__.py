"""A small project for the direct-upload browser tests: a model, its admin, a plain form page, and
a middleware counting the bytes Django receives (tests/support/uploads_server.py runs it)."""
