"""What this server allows a Judge0 client: defaults, maxima and features (``/config_info``).

Defaults are Judge0 CE's; maxima are ours (``web.config.RunMaxima``, the ``/api/runs``
ceilings), so a request above them gets Judge0's 422. Network is never allowed, and limits are
always for the whole box (a cgroup), never per process or thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from store import webhooks
from web.config import Settings

#: Judge0's batch size; the official SDK splits larger lists into batches of this many.
MAX_BATCH = 20
MAX_NUMBER_OF_RUNS = 20
#: Characters of compiler_options and command_line_arguments (Judge0's column limits).
MAX_OPTIONS = 512
#: Judge0 language names (prefixes) that may take compiler_options: our gcc and g++ lines
#: take them (worker.languages, $COMPILER_OPTIONS).
COMPILER_OPTIONS_FOR = ("C", "C++")


@dataclass(frozen=True)
class Bounds:
    """(default, minimum, maximum, minimum is exclusive) per numeric field, Judge0's units."""

    table: dict[str, tuple[float, float, float, bool]]
    batch: int = MAX_BATCH


def bounds(settings: Settings) -> Bounds:
    m = settings.run_maxima
    max_kb = m.memory // 1024
    return Bounds({
        "cpu_time_limit": (min(5.0, m.cpu_time), 0.0, m.cpu_time, True),
        "cpu_extra_time": (1.0, 0.0, 5.0, False),
        "wall_time_limit": (min(10.0, m.wall_time), 1.0, m.wall_time, False),
        "memory_limit": (min(128000, max_kb), 2048, max_kb, False),
        "stack_limit": (min(64000, max_kb), 0, max_kb, False),
        "max_processes_and_or_threads": (min(60, m.pids), 0, m.pids, True),
        "max_file_size": (min(1024, m.output // 1024), 0, m.output // 1024, False),
        "number_of_runs": (1, 0, MAX_NUMBER_OF_RUNS, True),
    })  # fmt: skip


def _tries(retry_for: float) -> int:
    """How many tries a callback gets within ``retry_for`` seconds (store.webhooks.backoff)."""
    tries, spent = 1, 0.0
    while spent + webhooks.backoff(tries) <= retry_for:
        spent += webhooks.backoff(tries)
        tries += 1
    return tries


def config_info(settings: Settings) -> dict[str, object]:
    """Every field the official SDK's ``Config`` model requires, with this server's values."""
    b = bounds(settings).table

    def default(name: str) -> float:
        return b[name][0]

    def maximum(name: str) -> float:
        return b[name][2]

    return {
        "maintenance_mode": False,
        "enable_wait_result": True,
        "enable_compiler_options": True,
        "allowed_languages_for_compile_options": list(COMPILER_OPTIONS_FOR),
        "enable_command_line_arguments": True,
        "enable_submission_delete": True,  # for admins
        "enable_callbacks": True,
        "callbacks_max_tries": _tries(webhooks.retry_for()),
        "callbacks_timeout": 5.0,
        "enable_additional_files": True,
        "max_queue_size": settings.max_queued,
        "cpu_time_limit": default("cpu_time_limit"),
        "max_cpu_time_limit": maximum("cpu_time_limit"),
        "cpu_extra_time": default("cpu_extra_time"),
        "max_cpu_extra_time": maximum("cpu_extra_time"),
        "wall_time_limit": default("wall_time_limit"),
        "max_wall_time_limit": maximum("wall_time_limit"),
        "memory_limit": int(default("memory_limit")),
        "max_memory_limit": int(maximum("memory_limit")),
        "stack_limit": int(default("stack_limit")),
        "max_stack_limit": int(maximum("stack_limit")),
        "max_processes_and_or_threads": int(default("max_processes_and_or_threads")),
        "max_max_processes_and_or_threads": int(maximum("max_processes_and_or_threads")),
        "enable_per_process_and_thread_time_limit": False,
        "allow_enable_per_process_and_thread_time_limit": False,
        "enable_per_process_and_thread_memory_limit": False,
        "allow_enable_per_process_and_thread_memory_limit": False,
        "max_file_size": int(default("max_file_size")),
        "max_max_file_size": int(maximum("max_file_size")),
        "number_of_runs": int(default("number_of_runs")),
        "max_number_of_runs": int(maximum("number_of_runs")),
        "redirect_stderr_to_stdout": False,
        "max_extract_size": 10240,
        "enable_batched_submissions": True,
        "max_submission_batch_size": MAX_BATCH,
        "submission_cache_duration": 0.0,
        "use_docs_as_homepage": False,
        "allow_enable_network": False,
        "enable_network": False,
    }
