"""``python -m gantutor.pretrained ...`` (:mod:`gantutor.pretrained.cli`)."""
from gantutor.pretrained.cli import main

raise SystemExit(main())
