"""``python -m umbrella.simulate``: write a simulated dataset."""

from umbrella.simulate.generator import main

raise SystemExit(main())
