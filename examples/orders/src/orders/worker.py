"""A queue consumer: counts the records of an SQS batch and reports none as failed."""

from urllib.parse import quote

import requests


def handler(event, context):
    records = (event or {}).get("Records", [])
    ids = [quote(r.get("messageId", "")) for r in records]
    return {"batchItemFailures": [], "seen": ids, "requests": requests.__version__}
