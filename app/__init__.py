"""Conduct Casebook: case records for a school's social media Code of Conduct."""

__version__ = "0.1.0"
