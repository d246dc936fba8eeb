"""`python -m hatch_lambda`: the same as the `hatch-lambda` command."""

import sys

from .cli import main

sys.exit(main())
