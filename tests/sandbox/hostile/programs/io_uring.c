/* io_uring performs I/O outside the syscall path (so outside seccomp) and has been a steady
 * source of kernel exploits. "setup": libuv-style probe, must fail with ENOSYS so runtimes
 * fall back (the program goes on, prints the errno, exits 0). "register": a call only an
 * attacker makes, must be SV "io_uring_register". */
#include "hostile.h"
#include <linux/io_uring.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "setup";
    if (!strcmp(mode, "register")) {
        long rc = syscall(SYS_io_uring_register, 0, 0, NULL, 0);
        returned("io_uring_register", rc);
        return 0;
    }
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    long rc = syscall(SYS_io_uring_setup, 8, &p);
    if (rc >= 0) {
        say("ESCAPED io_uring_setup gave fd %ld", rc);
        return 1;
    }
    say("io_uring_setup failed: %s", errno == ENOSYS ? "ENOSYS" : strerror(errno));
    return 0;
}
