"""Problems and programs the worker tests grade: each bad program earns its verdict for real."""

from __future__ import annotations

from typing import Any

APLUSB_TESTS = [{"input": f"{i} {i * 7 + 1}\n", "output": f"{i * 8 + 1}\n"} for i in range(10)]
APLUSB: dict[str, Any] = {
    "slug": "aplusb",
    "title": "A+B",
    "time_limit": 1.0,
    "tests": APLUSB_TESTS,
}

APLUSB_SOURCES = {
    "c": '#include <stdio.h>\nint main(){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}',
    "cpp": '#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<"\\n";}',
    "python3": "a, b = map(int, input().split())\nprint(a + b)\n",
    "java": (
        "import java.util.*;\npublic class Main { public static void main(String[] x) {"
        " Scanner s = new Scanner(System.in); System.out.println(s.nextLong() + s.nextLong()); } }"
    ),
    "javascript": (
        'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\n'
        "console.log(a + b);\n"
    ),
    "rust": (
        "use std::io::*;\nfn main() { let mut s = String::new();"
        " stdin().read_to_string(&mut s).unwrap();"
        " let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();"
        ' println!("{}", v[0] + v[1]); }'
    ),
    "ruby": "a, b = gets.split.map(&:to_i)\nputs a + b\n",
    "perl": 'my ($a, $b) = split " ", <STDIN>;\nprint $a + $b, "\\n";\n',
    "bash": "read a b\necho $((a + b))\n",
}

# A sum on one line each for two numbers per line: the lines checker makes layout matter.
PAIRS: dict[str, Any] = {
    "slug": "pairs",
    "checker": {"type": "lines"},
    "tests": [{"input": "1 2\n3 4\n", "output": "3\n7\n"}],
}

TIGHT: dict[str, Any] = {
    "slug": "tight",
    "time_limit": 0.5,
    "memory_limit": "64M",
    "output_limit": "1M",
    "tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "2 2\n", "output": "4\n"}],
}

C_MLE = r"""
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
int main(void) {
    long sum = 0;
    for (int i = 0; i < 512; i++) {   /* 512 MiB in 1 MiB pieces against a 64 MiB limit */
        char *p = malloc(1 << 20);
        if (!p) { puts("malloc failed"); return 0; }
        memset(p, i, 1 << 20);         /* touch every page: only touched pages are charged */
        sum += p[i];
    }
    printf("%ld\n", sum);
    return 0;
}
"""
C_SV = r"""
#include <sys/ptrace.h>
#include <stdio.h>
int main(void) { ptrace(PTRACE_TRACEME, 0, 0, 0); puts("3"); return 0; }
"""

# A "sum of a list" problem graded by groups: small tests pass with the naive program below,
# big ones overflow its 32-bit accumulator.
GROUPS: dict[str, Any] = {
    "slug": "groups",
    "stop_on_failure": False,
    "tests": [
        {"input": "2\n1 2\n", "output": "3\n", "group": "small", "points": 5},
        {"input": "3\n1 2 3\n", "output": "6\n", "group": "small", "points": 5},
        {"input": "2\n2000000000 2000000000\n", "output": "4000000000\n", "group": "big",
         "points": 10},
        {"input": "1\n5\n", "output": "5\n", "group": "big", "points": 10},
        {"input": "1\n7\n", "output": "7\n", "points": 3},
    ],
}  # fmt: skip
C_SUM32 = r"""
#include <stdio.h>
int main(void) { int n, s = 0, x; scanf("%d", &n); while (n--) { scanf("%d", &x); s += x; }
                 printf("%d\n", s); return 0; }
"""

FLOAT: dict[str, Any] = {
    "slug": "divide",
    "checker": {"type": "float", "abs": 1e-4, "rel": 1e-4},
    "stop_on_failure": False,
    "tests": [
        {"input": "1 4\n", "output": "0.25\n", "points": 4},
        {"input": "1 3\n", "output": "0.333333333\n", "points": 3},
        {"input": "10 3\n", "output": "3.333333333\n", "points": 3},
    ],
}

# Partial credit: the checker grants 10 points per expected token the program got right.
PARTIAL_CHECKER = r"""
import sys
inp, out, ans = (open(p).read().split() for p in sys.argv[1:4])
if out == ans:
    sys.exit(0)
right = sum(1 for a, b in zip(out, ans) if a == b)
if right == 0:
    print("nothing right", file=sys.stderr)
    sys.exit(1)
if len(out) > len(ans):
    print("too many numbers", file=sys.stderr)
    sys.exit(2)
if "fail" in inp:
    sys.exit(3)
print(f"points {10 * right}", file=sys.stderr)
sys.exit(7)
"""
CUSTOM: dict[str, Any] = {
    "slug": "first-squares",
    "checker": {"type": "custom", "language": "python3", "source": PARTIAL_CHECKER},
    "stop_on_failure": False,
    "tests": [
        {"input": "3\n", "output": "1 4 9\n", "points": 30},
        {"input": "2\n", "output": "1 4\n", "points": 20},
    ],
}
# Right for the first two squares, wrong after: 20 of 30 points on test 1, all 20 on test 2.
SQUARES_HALF = "n = int(input())\nprint(*[i * i if i < 3 else 0 for i in range(1, n + 1)])\n"

SLOW_AC = (
    # Burns ~0.25 s of CPU per test so a grading lasts long enough to be interrupted.
    "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.25:\n    pass\n"
    "a, b = map(int, input().split())\nprint(a + b)\n"
)

# Interactive: guess a secret 1..1000 (the test input) in at most 10 questions. "? x" is
# answered "<", ">" or "="; the interactor judges with testlib exit codes.
GUESS_INTERACTOR = r"""
import sys
secret = int(open(sys.argv[1]).read())
if len(sys.argv) > 3 and open(sys.argv[3]).read().strip() == "broken":  # INPUT OUTPUT ANSWER
    print("the test says it is broken", file=sys.stderr)
    sys.exit(3)
for asked in range(1, 11):
    line = sys.stdin.readline(64)  # bounded: a line without end cannot fill our memory
    if not line:
        print(f"no guess after {asked - 1} questions", file=sys.stderr)
        sys.exit(1)
    parts = line.split()
    if len(parts) != 2 or parts[0] != "?" or not parts[1].isdigit():
        print(f"question {asked}: not '? x'", file=sys.stderr)
        sys.exit(2)
    x = int(parts[1])
    if x == secret:
        print("=", flush=True)
        print(f"guessed in {asked}", file=sys.stderr)
        sys.exit(0)
    print("<" if secret < x else ">", flush=True)
print("more than 10 questions", file=sys.stderr)
sys.exit(1)
"""
GUESS: dict[str, Any] = {
    "slug": "guess-1000",
    "time_limit": 0.5,  # wall limit 2.5 s: a silent solution costs that much
    "memory_limit": "64M",
    "interactor": {"language": "python3", "source": GUESS_INTERACTOR},
    "tests": [{"input": f"{n}\n"} for n in (1, 1000, 500, 377, 2)],
}
GUESS_PY = """
low, high = 1, 1000
while True:
    mid = (low + high) // 2
    print("?", mid, flush=True)
    answer = input()
    if answer == "=":
        break
    if answer == "<":
        high = mid - 1
    else:
        low = mid + 1
"""
GUESS_C = r"""
#include <stdio.h>
int main(void) {
    int low = 1, high = 1000;
    char answer[8];
    for (;;) {
        int mid = (low + high) / 2;
        printf("? %d\n", mid);
        fflush(stdout);
        if (scanf("%7s", answer) != 1 || answer[0] == '=') return 0;
        if (answer[0] == '<') high = mid - 1; else low = mid + 1;
    }
}
"""
# Counts up from 1: right for small secrets, too many questions for the rest.
GUESS_LINEAR = """
x = 1
while True:
    print("?", x, flush=True)
    if input() == "=":
        break
    x += 1
"""
# Asks once, then waits for something that never comes.
GUESS_SILENT = "import time\ntime.sleep(60)\n"
# Floods the pipe: one line that never ends, or questions without reading a single answer.
GUESS_FLOOD_LINE = "import sys\nwhile True:\n    sys.stdout.write('7' * 65536)\n"
GUESS_FLOOD_QUESTIONS = "import sys\nwhile True:\n    sys.stdout.write('? 999\\n' * 4096)\n"
# Asks one question, reads the answer, then allocates until the kernel kills it.
GUESS_OOM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    char answer[8];
    printf("? 500\n");
    fflush(stdout);
    if (scanf("%7s", answer) != 1) return 0;
    for (;;) { char *p = malloc(1 << 20); if (!p) return 0; memset(p, 1, 1 << 20); }
}
"""
# Snoops on the interactor and tries to kill everything it can see, then plays fair. What it
# managed goes to stderr (kept by the sandbox) for the test to read.
GUESS_HOSTILE = (
    """
import os, signal, sys
seen = []
for path in ("/box/input.txt", "/box/answer.txt", "input.txt", "/proc/1/root/box/input.txt"):
    try:
        with open(path) as f:
            seen.append(f"READ {path}: {f.read(40)!r}")
    except OSError as e:
        seen.append(f"no {path}: {e.strerror}")
seen.append("box holds " + " ".join(sorted(os.listdir("/box"))))
for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
    if pid != os.getpid():
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
                seen.append(f"KILLED {pid}")
            except OSError as e:
                seen.append(f"kill {pid}: {e.strerror}")
try:
    os.kill(-1, signal.SIGKILL)
    seen.append("kill -1 sent")
except OSError as e:
    seen.append(f"kill -1: {e.strerror}")
print("\\n".join(seen), file=sys.stderr, flush=True)
"""
    + GUESS_PY
)
