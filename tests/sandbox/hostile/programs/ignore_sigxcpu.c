/* RLIMIT_CPU's soft limit only sends SIGXCPU, which a program can ignore (and it cannot raise
 * its own hard limit back). Ignore SIGXCPU and spin: the run must still end as TLE. */
#include "hostile.h"
#include <signal.h>
#include <sys/resource.h>

int main(void) {
    signal(SIGXCPU, SIG_IGN);
    struct rlimit rl;
    getrlimit(RLIMIT_CPU, &rl);
    rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
    if (setrlimit(RLIMIT_CPU, &rl) == 0) say("ESCAPED raised RLIMIT_CPU");
    for (volatile unsigned long n = 0;; n++) {
    }
}
