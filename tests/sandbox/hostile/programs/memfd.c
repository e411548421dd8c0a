/* Memory that belongs to no process's heap: a memfd grown with write(). Its pages must be
 * charged to the box: MLE with oom_killed (or a failed write), never a run that holds more
 * than the limit. */
#include "hostile.h"
#include <sys/mman.h>

int main(void) {
    static char buf[1 << 20];
    memset(buf, 7, sizeof buf);
    int fd = memfd_create("hoard", 0);
    for (int mib = 0; mib < 2048; mib++) {
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
            say("write failed at %d MiB: %s", mib, strerror(errno));
            return 1;
        }
    }
    say("ESCAPED hoarded 2 GiB in a memfd");
    return 0;
}
