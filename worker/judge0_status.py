"""Judge0 CE 1.13.1's status ids, and how a sandbox result maps onto them.

Pure functions: the worker stores the id it computes here, the web only names it. Judge0 splits
runtime errors by the signal that ended the program (isolate's ``exitsig``): SIGSEGV 7,
SIGXFSZ 8, SIGFPE 9, SIGABRT 10, any other signal 12, and a plain non-zero exit 11 (NZEC).
Judge0 has no memory verdict: its OOM kill is SIGKILL, "Runtime Error (Other)"; the judge's own
``MLE`` and ``oom_killed`` travel beside the status as extra fields.
"""

from __future__ import annotations

import signal

import sandbox

IN_QUEUE, PROCESSING, ACCEPTED, WRONG_ANSWER, TIME_LIMIT = 1, 2, 3, 4, 5
COMPILATION_ERROR, SIGSEGV, SIGXFSZ, SIGFPE, SIGABRT, NZEC, OTHER = 6, 7, 8, 9, 10, 11, 12
INTERNAL_ERROR, EXEC_FORMAT_ERROR = 13, 14

DESCRIPTIONS: dict[int, str] = {
    IN_QUEUE: "In Queue",
    PROCESSING: "Processing",
    ACCEPTED: "Accepted",
    WRONG_ANSWER: "Wrong Answer",
    TIME_LIMIT: "Time Limit Exceeded",
    COMPILATION_ERROR: "Compilation Error",
    SIGSEGV: "Runtime Error (SIGSEGV)",
    SIGXFSZ: "Runtime Error (SIGXFSZ)",
    SIGFPE: "Runtime Error (SIGFPE)",
    SIGABRT: "Runtime Error (SIGABRT)",
    NZEC: "Runtime Error (NZEC)",
    OTHER: "Runtime Error (Other)",
    INTERNAL_ERROR: "Internal Error",
    EXEC_FORMAT_ERROR: "Exec Format Error",
}
UNFINISHED = (IN_QUEUE, PROCESSING)

_BY_SIGNAL: dict[int, int] = {
    int(signal.SIGSEGV): SIGSEGV,
    int(signal.SIGXFSZ): SIGXFSZ,
    int(signal.SIGFPE): SIGFPE,
    int(signal.SIGABRT): SIGABRT,
}


def by_signal(signo: int) -> int:
    return _BY_SIGNAL.get(signo, OTHER)


def normalized(text: bytes | None) -> bytes | None:
    """Judge0's comparison: each line right-stripped, then trailing blank lines dropped."""
    if text is None:
        return None
    return b"\n".join(line.rstrip() for line in text.split(b"\n")).rstrip()


def of_run(
    r: sandbox.Result, cpu_limit: float, stdout: bytes, expected: bytes | None
) -> tuple[int, str]:
    """(Judge0 status id, the judge's verdict code) of one finished run.

    ``cpu_limit`` is the requested cpu_time_limit: the sandbox was given cpu_extra_time on
    top (isolate's ``-x``), and a run that used the extra time is still a TLE, as in Judge0.
    """
    v = r.verdict
    if v is sandbox.Verdict.INTERNAL_ERROR:
        return INTERNAL_ERROR, "IE"
    if v is sandbox.Verdict.TIME_LIMIT:
        return TIME_LIMIT, "TLE"
    if v is sandbox.Verdict.OUTPUT_LIMIT:
        # Judge0 writes stdout to a file under max_file_size (RLIMIT_FSIZE): SIGXFSZ.
        return SIGXFSZ, "OLE"
    ours = {sandbox.Verdict.MEMORY_LIMIT: "MLE", sandbox.Verdict.SECURITY_VIOLATION: "SV"}
    code = ours.get(v, "RE")
    if r.signal is not None:
        return by_signal(r.signal), code
    if v is not sandbox.Verdict.OK or r.exit_code != 0:
        return NZEC, code
    if r.cpu_time > cpu_limit:
        return TIME_LIMIT, "TLE"
    if expected is None or normalized(expected) == normalized(stdout):
        return ACCEPTED, "AC"
    return WRONG_ANSWER, "WA"


def message_of(r: sandbox.Result, status: int) -> str | None:
    """isolate's wording where Judge0 users see it; the sandbox's sentence otherwise."""
    if status in (ACCEPTED, WRONG_ANSWER):
        return None
    if r.signal is not None and r.verdict is not sandbox.Verdict.TIME_LIMIT:
        return f"Caught fatal signal {r.signal}"
    if status == NZEC and r.exit_code:
        return f"Exited with error status {r.exit_code}"
    return r.message or None
