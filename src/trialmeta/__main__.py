"""``python -m trialmeta``: the same entry point as the ``trialmeta`` console script."""

import sys

from trialmeta.cli.main import main

sys.exit(main())
