"""Records of measured metrics and their renderers (JUnit properties, JSON, Markdown, CSV)."""

from trustser.report.records import TrustRecord, plain_details
from trustser.report.html import write_html
from trustser.report.writers import merge_prediction_parts, render_markdown, write_json, write_markdown, write_prediction_rows

__all__ = ["TrustRecord", "merge_prediction_parts", "plain_details", "render_markdown", "write_html", "write_json", "write_markdown", "write_prediction_rows"]
