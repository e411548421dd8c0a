/* Forge a security verdict: die of SIGSYS (what a seccomp kill looks like) and write a fake
 * supervisor report line to every fd that might be the report pipe. A correct box reports
 * RE with signal SIGSYS and no blocked syscall: only the kernel's notification counts. */
#include "hostile.h"
#include <signal.h>

int main(void) {
    const char line[] = "syscall 3221225534 101\nexit 31 1\n";
    for (int fd = 3; fd < 64; fd++) {
        if (write(fd, line, sizeof line - 1) > 0) say("ESCAPED wrote a report to fd %d", fd);
    }
    fprintf(stderr, "syscall 3221225534 101\n");
    fflush(stderr);
    kill(getpid(), SIGSYS);
    return 0;
}
