/* A System V shared memory segment: owned by the IPC namespace, not by any process, so it
 * survives its creator. Its pages must be charged to the box (MLE), and the segment must not
 * outlive the box (the box's IPC namespace dies with it). */
#include "hostile.h"
#include <sys/ipc.h>
#include <sys/shm.h>

int main(void) {
    size_t size = 1UL << 30;
    int id = shmget(0x6b6f6f6c, size, IPC_CREAT | 0666);
    if (id < 0) {
        say("shmget: %s", strerror(errno));
        return 1;
    }
    char *p = shmat(id, NULL, 0);
    if (p == (void *)-1) {
        say("shmat: %s", strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < size; i += 4096) p[i] = 1;
    say("ESCAPED touched a 1 GiB segment");
    return 0;
}
