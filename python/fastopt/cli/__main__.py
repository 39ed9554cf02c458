"""``python -m fastopt.cli``: the ``fastopt`` script."""
import sys

from . import main

sys.exit(main())
