/* The new mount API (fsopen/fsmount/move_mount) does what mount(2) does through other
 * syscalls; a filter that only blocks mount(2) misses it. Must be SV "fsopen". */
#include "hostile.h"
#include <sys/syscall.h>

int main(void) {
    long rc = syscall(SYS_fsopen, "tmpfs", 0);
    returned("fsopen", rc);
    return 0;
}
