"""Talks to S3: connections, the one error translator, the ObjectStore and its primitives.

Nothing here knows Django's Storage class; every request of the package is made here.
"""
