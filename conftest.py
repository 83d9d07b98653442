"""Root conftest: a checkout run without installing TrustSER (no `pytest11` entry point in the
environment, e.g. `PYTHONPATH=. pytest trust_tests`) still gets the plugin, from the tree. An installed
TrustSER (`make install`, `pip install`) loads it through its entry point instead: pytest refuses one
plugin module registered under two names, so this file then registers nothing.

The plugin adds its short option names (`--backbone`, ...) once the rootdir's conftests are loaded
(trustser.pytest_plugin.options); registered from here, during that loading, it would miss that moment, so this
file adds them: nothing else here claims those names."""

from importlib.metadata import entry_points

if not entry_points(group="pytest11", name="trustser"):
    pytest_plugins = ["trustser.pytest_plugin.hooks"]

    def pytest_addoption(parser):
        from trustser.pytest_plugin.options import add_short_names

        add_short_names(parser)
