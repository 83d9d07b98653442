"""Exceptions shared across the library."""


class NotApplicable(Exception):
    """The metric does not exist for this backbone (e.g. gradients of a non-differentiable encoder).

    The pytest plugin turns it into a skip with this message and a SKIP record in the report.
    """
