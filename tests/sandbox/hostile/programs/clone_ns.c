/* New namespaces through clone flags. "clone": clone(2) with CLONE_NEWUSER must be SV
 * "clone". "clone3": clone3 passes its flags in memory a filter cannot read, so it must fail
 * with ENOSYS (glibc then falls back to clone); the program prints the errno, exits 0. */
#include "hostile.h"
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "clone";
    long rc;
    if (!strcmp(mode, "clone3")) {
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = CLONE_NEWUSER | CLONE_NEWNS;
        args.exit_signal = SIGCHLD;
        rc = syscall(SYS_clone3, &args, sizeof args);
        if (rc == 0) _exit(0);
        if (rc > 0) {
            waitpid((pid_t)rc, NULL, 0);
            say("ESCAPED clone3 made a child in new namespaces");
            return 1;
        }
        say("clone3 failed: %s", errno == ENOSYS ? "ENOSYS" : strerror(errno));
        return 0;
    }
    rc = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (rc == 0) _exit(0);
    returned("clone", rc);
    return 0;
}
