"""The judge's shared vocabulary (DESIGN 3.3): submission statuses and verdicts.

Both are ``StrEnum``s whose value is the code stored in the database and shown in the API,
so ``Verdict.AC == "AC"`` and rows stay readable with a plain SQL client.
"""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    QUEUED = "queued"
    COMPILING = "compiling"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"


class Verdict(enum.StrEnum):
    AC = "AC"
    WA = "WA"
    PE = "PE"
    TLE = "TLE"
    MLE = "MLE"
    OLE = "OLE"
    RE = "RE"
    SV = "SV"
    CE = "CE"
    IE = "IE"
    SK = "SK"


#: Statuses in which a worker holds a lease on the submission.
IN_PROGRESS = (Status.COMPILING, Status.RUNNING)
#: Statuses after which nothing more happens unless someone rejudges.
FINISHED = (Status.DONE, Status.ERROR)
