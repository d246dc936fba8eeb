"""A handler that imports a module the project does not depend on."""

import yaml


def handler(event, context):
    return yaml.safe_dump(event)
