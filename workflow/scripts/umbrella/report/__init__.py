"""The report stage: the HTML report (html) and the supplement (supplement)."""
