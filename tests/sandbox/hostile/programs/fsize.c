/* Write a file past the file-size limit: the kernel sends SIGXFSZ. OLE. */
#include "hostile.h"
#include <fcntl.h>

int main(void) {
    static char buf[1 << 16];
    int fd = open("/box/big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (int i = 0; i < 1 << 16; i++) {
        if (write(fd, buf, sizeof buf) < 0) {
            say("write: %s", strerror(errno));
            return 1;
        }
    }
    say("ESCAPED wrote 4 GiB");
    return 0;
}
