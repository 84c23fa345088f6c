"""HTML reports: shared escaping and number formats, one template per report."""
