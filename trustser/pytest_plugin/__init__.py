"""trustser.pytest_plugin"""
