"""A small Lambda function."""
