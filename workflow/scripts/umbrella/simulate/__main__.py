"""``python -m umbrella.simulate``: write a simulated dataset."""

from umbrella.simulate.cli import main

raise SystemExit(main())
