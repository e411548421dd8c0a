"""Guess the number: the interactor.

Run as ``interactor INPUT OUTPUT ANSWER`` (testlib's contract); INPUT holds the secret number,
OUTPUT and ANSWER are not needed here. Talks to the solution
through stdin/stdout and ends with a testlib exit code: 0 accepted, 1 wrong answer,
2 presentation error (a malformed question), 3 a broken test (judge failure).
"""

import sys
from typing import NoReturn

LOW, HIGH = 1, 10**9
QUESTIONS = 30  # ceil(log2(10^9)): what a binary search needs
LINE = 64  # a question is short; reading at most this much keeps a flood from filling memory


def end(code: int, message: str) -> NoReturn:
    print(message, file=sys.stderr)
    sys.exit(code)


try:
    with open(sys.argv[1]) as test_input:
        secret = int(test_input.read().split()[0])
except (IndexError, ValueError, OSError) as e:
    end(3, f"bad test input: {e}")
if not LOW <= secret <= HIGH:
    end(3, f"bad test input: {secret} is outside {LOW}..{HIGH}")

for asked in range(1, QUESTIONS + 1):
    line = sys.stdin.readline(LINE)
    if not line:
        end(1, f"the solution stopped after {asked - 1} questions without guessing")
    if len(line) == LINE and not line.endswith("\n"):
        end(2, f"question {asked}: line longer than {LINE - 1} characters")
    parts = line.split()
    if len(parts) != 2 or parts[0] != "?" or not parts[1].isdigit():
        end(2, f"question {asked}: expected '? x', got {line.strip()[:40]!r}")
    x = int(parts[1])
    if not LOW <= x <= HIGH:
        end(2, f"question {asked}: {x} is outside {LOW}..{HIGH}")
    if x == secret:
        print("=", flush=True)
        end(0, f"guessed {secret} in {asked} question{'s' if asked > 1 else ''}")
    print("<" if secret < x else ">", flush=True)
end(1, f"not guessed after {QUESTIONS} questions")
