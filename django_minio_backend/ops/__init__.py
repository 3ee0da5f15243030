"""Maintenance for the commands and start-up: buckets, health, orphans, metadata sync.

Every request goes through the core's ObjectStore.
"""
