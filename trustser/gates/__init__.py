"""What a metric is and how it is judged: each metric's declaration (`declaration`: name, direction,
default bound, settings and their rules, documentation) and the release gates of thresholds.toml,
validated against the declarations and applied to measured values (`thresholds`). Verdicts are made
here and nowhere else.

May import: nothing
"""
