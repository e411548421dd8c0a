/* build: -static */
/* Make the OOM killer pick the box's init instead of the program. The box starts the
 * program with oom_score_adj 1000 so that it is always the victim, but any process may
 * lower its own score back to the minimum it started with (0), which is init's. Then the
 * program keeps its own RSS tiny (a static binary, no heap) and puts the memory where no
 * process's RSS counts it: a file in /dev/shm. When the cgroup runs out, the biggest
 * process by RSS is init. A correct box still ends this run as MLE (never IE: an internal
 * error would be retried, and a program must not be able to cause one). */
#include "hostile.h"
#include <fcntl.h>

int main(void) {
    int adj = open("/proc/self/oom_score_adj", O_WRONLY);
    if (adj >= 0 && write(adj, "0", 1) == 1) say("oom_score_adj lowered to 0");
    close(adj);
    static char buf[1 << 16];
    memset(buf, 7, sizeof buf);
    int fd = open("/dev/shm/fill", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    long total = 0;
    for (;;) {
        ssize_t n = write(fd, buf, sizeof buf);
        if (n < 0) {
            say("stopped after %ld bytes: %s", total, strerror(errno));
            break;
        }
        total += n;
    }
    return 0;
}
