"""An HTTP-style entry point: answers with the order it was asked about."""

import json

import requests


def handler(event, context):
    order_id = (event or {}).get("pathParameters", {}).get("id", "unknown")
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"order": order_id, "requests": requests.__version__}),
    }
