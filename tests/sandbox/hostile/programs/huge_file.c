/* A "huge" file for copy-out: grow /box/out sparsely to the file-size limit (argv[1] bytes),
 * then, ignoring SIGXFSZ, try to extend it to 1 TiB with ftruncate and pwrite. The file must
 * never exceed the limit, so the host's copy-out never reads more than its cap. */
#include "hostile.h"
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    long limit = argc > 1 ? atol(argv[1]) : 1 << 20;
    signal(SIGXFSZ, SIG_IGN);
    int fd = open("/box/out", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (ftruncate(fd, limit) < 0) say("ftruncate to the limit: %s", strerror(errno));
    if (ftruncate(fd, 1L << 40) == 0) say("ESCAPED sparse file of 1 TiB");
    if (pwrite(fd, "x", 1, (1L << 40) - 1) == 1) say("ESCAPED wrote at 1 TiB");
    if (fallocate(fd, 0, 0, limit + 4096) == 0) say("ESCAPED fallocate past the limit");
    say("size done");
    return 0;
}
