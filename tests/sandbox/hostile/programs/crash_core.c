/* Crash to reach the host's core dump handler. With a pipe core_pattern (Ubuntu's apport,
 * systemd-coredump) the kernel runs that handler as host root for every crashing process,
 * outside the box and its limits, and feeds it the process's memory: box-controlled input
 * to a root program that has had its own escapes (apport CVE-2020-15702, CVE-2021-25682),
 * and a way to spend host CPU by crashing in a loop. First lower RLIMIT_CORE to 0 (the
 * kernel ignores 0 for pipes; only 1 stops them) and make sure we are dumpable, then crash,
 * in a child and in the program itself. "plain" (used outside any box as the control) just
 * crashes. The handler must never run for a box. */
#include "hostile.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

static int *volatile nowhere;  /* volatile: the compiler may not drop the faulting store */

static void crash(void) {
    *nowhere = 1;
    abort();
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "plain")) crash();
    struct rlimit zero = {0, 0};
    say("setrlimit(RLIMIT_CORE, 0): %s", setrlimit(RLIMIT_CORE, &zero) == 0 ? "done" : strerror(errno));
    struct rlimit now;
    getrlimit(RLIMIT_CORE, &now);
    say("RLIMIT_CORE now %lu", (unsigned long)now.rlim_cur);
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    pid_t child = fork();
    if (child == 0) crash();
    waitpid(child, NULL, 0);
    crash();
    return 0;
}
