/* userfaultfd lets a program stall the kernel mid-copy at will: the standard tool for
 * winning kernel race conditions. Must be SV "userfaultfd". */
#include "hostile.h"
#include <fcntl.h>
#include <sys/syscall.h>

int main(void) {
    long rc = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    returned("userfaultfd", rc);
    return 0;
}
