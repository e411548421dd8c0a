/* Kernel memory the memory cgroup may not see: data queued in unix socket pairs that nobody
 * reads. Pipe buffers are charged to the writer's cgroup; unix socket buffers are bounded
 * only by each socket's send buffer (SO_SNDBUF, up to net.core.wmem_max, 4 MiB here, which
 * the kernel doubles). argv[1] pairs per process, argv[2] processes. Each process fills
 * both directions of its pairs until the kernel says EAGAIN and prints "queued BYTES";
 * the sum is kernel memory the box held at once. A correct box holds no more than its
 * memory limit: it is stopped (MLE) or the kernel refuses the data. */
#include "hostile.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

static long fill(int fd) {
    static char buf[1 << 16];
    long total = 0;
    ssize_t n;
    while ((n = write(fd, buf, sizeof buf)) > 0) total += n;
    return total;
}

int main(int argc, char **argv) {
    int pairs = argc > 1 ? atoi(argv[1]) : 8;
    int procs = argc > 2 ? atoi(argv[2]) : 1;
    for (int i = 1; i < procs; i++) {
        if (fork() == 0) break;
    }
    long total = 0;
    for (int i = 0; i < pairs; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0) break;
        for (int side = 0; side < 2; side++) {
            int size = 4 << 20;
            setsockopt(sv[side], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
            total += fill(sv[side]);
        }
    }
    say("queued %ld", total);
    usleep(300 * 1000);  /* hold it while the others finish */
    while (wait(NULL) > 0) {
    }
    return 0;
}
