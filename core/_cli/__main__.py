"""``python -m dualtrack._cli``."""

from ._main import main

raise SystemExit(main())
