"""`python -m dangjian`: the command line."""

from dangjian.cli import main

raise SystemExit(main())
