"""The audit under pytest-xdist: which process is the controller, each backbone's tests kept on one
worker, and what the controller hands its workers (the session token, the scheduling)."""

from __future__ import annotations

import pytest

from trustser.pytest_plugin.gating import is_trust_test

_TOKEN_KEY = "trustser_token"
_LOADGROUP_KEY = "trustser_loadgroup"


def is_controller(config: pytest.Config) -> bool:
    """This process is not a pytest-xdist worker (it is the controller, or the run is not parallel)."""
    return getattr(config, "workerinput", None) is None


def runs_workers(config: pytest.Config) -> bool:
    """This process is the controller of a `pytest -n N` run: its workers collect, it collects nothing."""
    return bool(getattr(config.option, "numprocesses", None)) and is_controller(config)


def controller_token(config: pytest.Config) -> str | None:
    """The session token the controller gave this worker; None in the controller."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput[_TOKEN_KEY] if workerinput else None


def group_backbones_on_workers(config: pytest.Config, asks_for_the_audit: bool) -> None:
    """Under `pytest -n N`, keep each backbone's tests on one worker (xdist's loadgroup scheduling).

    A backbone's features, heads and results are built once per process; spreading its tests over
    workers would only make several processes wait on the same cache lock.
    """
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        # a worker parses the command line anew and never sees the controller's switch, yet only with
        # `loadgroup` set does it add each test's xdist_group to the node id the controller schedules by
        if workerinput.get(_LOADGROUP_KEY):
            config.option.loadgroup = True
        return
    if getattr(config.option, "dist", "no") == "load" and runs_workers(config) and asks_for_the_audit:
        config.option.dist = "loadgroup"


def mark_backbone_groups(items: list[pytest.Item]) -> None:
    """Each trust test in its backbone's xdist group (read by the worker after this, at collection)."""
    for item in filter(is_trust_test, items):
        item.add_marker(pytest.mark.xdist_group(f"backbone-{item.callspec.params['backbone']}"))


def configure_node(node, token: str) -> None:
    """What a worker needs of the controller: the session token and the scheduling."""
    node.workerinput[_TOKEN_KEY] = token
    node.workerinput[_LOADGROUP_KEY] = node.config.option.dist == "loadgroup"
