"""The Lambda entry point: reports which Python and which requests it runs with."""

import platform
import sys

import requests


def handler(event, context):
    return {
        "statusCode": 200,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "machine": platform.machine(),
        "requests": requests.__version__,
        "greeting": f"hello, {(event or {}).get('name', 'world')}",
    }
