/* Floods stdout and stderr at once from two processes, so neither pipe is ever idle: both
 * captures must stay within the cap, the run is OLE. */
#include "hostile.h"

int main(void) {
    static char buf[1 << 16];
    int fd = fork() == 0 ? 2 : 1;
    memset(buf, fd == 1 ? 'O' : 'E', sizeof buf);
    for (;;) {
        if (write(fd, buf, sizeof buf) < 0) return 1;
    }
}
