/* Spin in the kernel rather than in user space: reading /dev/zero is nearly all system time,
 * which a judge counting only user time would never stop. TLE. */
#include "hostile.h"
#include <fcntl.h>

int main(void) {
    static char buf[1 << 16];
    int fd = open("/dev/zero", O_RDONLY);
    for (;;) {
        if (read(fd, buf, sizeof buf) < 0) return 1;
    }
}
