/* Fill a file on one of the box's writable filesystems (argv[1]: /dev/shm/x, /tmp/x,
 * /box/x) 1 MiB at a time. tmpfs pages are memory: when the disk cap is above the memory
 * limit they must be charged to the box (MLE, oom_killed); when it is below, the write must
 * fail with ENOSPC at the cap. Prints how far it got. */
#include "hostile.h"
#include <fcntl.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    static char buf[1 << 20];
    memset(buf, 7, sizeof buf);
    const char *path = argc > 1 ? argv[1] : "/dev/shm/x";
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        say("open %s: %s", path, strerror(errno));
        return 2;
    }
    long total = 0;
    while (total < 4L << 30) {
        ssize_t n = write(fd, buf, sizeof buf);
        if (n < 0) {
            say("stopped after %ld bytes: %s", total, strerror(errno));
            return 0;
        }
        total += n;
    }
    say("ESCAPED wrote %ld bytes", total);
    return 0;
}
