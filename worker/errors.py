"""The two ways grading can fail that are not the submitter's fault."""

from __future__ import annotations


class InternalError(Exception):
    """Something broke that may work next time (sandbox failure, lost database connection).

    The submission goes back to the queue until the attempt cap, then ends as IE with this message.
    """


class ProblemFault(Exception):
    """The problem itself cannot be graded (its checker does not compile, an unknown language).

    Retrying cannot help: the submission ends as IE at once, with this message for the admin.
    """
