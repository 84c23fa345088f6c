"""HTML reports: one Jinja2 environment (:mod:`mig.html.render`), shared value formats
(:mod:`mig.html.format`), one template per report over one base template and style."""
