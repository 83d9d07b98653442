"""The pytest plugin (entry point `pytest11`): audit options, backbone parametrisation, the trust
fixtures, gating, pytest-xdist scheduling and the trust report. Inert in runs without trust tests.

May import: cache, compute, corpora, encoders, features, gates, models, pillars, report, run, specs
"""
