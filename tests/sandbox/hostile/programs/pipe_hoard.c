/* Kernel memory, not user memory: fill as many pipes as the fd limit allows with 1 MiB
 * buffers each, in several processes. Pipe buffers are kernel allocations charged to the
 * memory cgroup; the box must stay within its limit (MLE, or the kernel refuses more). */
#include "hostile.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>

static long hoard(void) {
    static char buf[1 << 16];
    memset(buf, 1, sizeof buf);
    long total = 0;
    for (;;) {
        int p[2];
        if (pipe2(p, O_NONBLOCK) < 0) break;
        fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
        ssize_t n;
        while ((n = write(p[1], buf, sizeof buf)) > 0) total += n;
        if (n < 0 && errno != EAGAIN) break;
    }
    return total;
}

int main(void) {
    for (int i = 0; i < 7; i++) {
        if (fork() == 0) {
            long total = hoard();
            say("child held %ld bytes of pipe buffers", total);
            pause();
            _exit(0);
        }
    }
    long total = hoard();
    say("parent held %ld bytes of pipe buffers", total);
    usleep(300 * 1000);
    return 0;
}
