"""``python -m gantutor ...``: train from the command line (:mod:`gantutor.cli`)."""
from gantutor.cli import main

raise SystemExit(main())
