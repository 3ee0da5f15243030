"""Helpers shared by the test suite; fixtures stay in the conftest files."""
