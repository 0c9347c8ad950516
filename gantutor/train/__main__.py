"""``python -m gantutor.train ...``: the command line of :mod:`gantutor.cli`."""
from gantutor.cli import main

raise SystemExit(main())
