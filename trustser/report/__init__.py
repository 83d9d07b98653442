"""Records of measured metrics and their renderers (JUnit properties, JSON, Markdown, HTML, CSV).

The modules are imported one by one (`trustser.report.records`, `.writers`, `.html`, ...): the pytest
plugin imports this package in every run, so it re-exports nothing that would load the writers and
their dependencies.

May import: cache, corpora, gates, pillars
"""
