"""Build AWS Lambda artifacts from a Hatch project."""

__version__ = "0.1.0"
