"""`python -m tinygrad_div ...` runs the command line (see `tinygrad_div.cli`)."""

import sys

from tinygrad_div.cli import main

sys.exit(main())
