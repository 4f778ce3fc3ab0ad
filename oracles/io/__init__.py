"""Fixtures (reported numbers as JSON, one validated schema) and recordings of cases."""
