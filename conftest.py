"""Root conftest: loads the TrustSER pytest plugin for the audit (trust_tests/) and the unit tests (tests/)."""

pytest_plugins = ["trustser.plugin"]
