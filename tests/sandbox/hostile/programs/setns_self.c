/* Joining a namespace (here our own user namespace, through an fd any process can open) is
 * how a process would step into another container's namespaces. Must be SV "setns". */
#include "hostile.h"
#include <fcntl.h>
#include <sched.h>

int main(void) {
    int fd = open("/proc/self/ns/user", O_RDONLY);
    long rc = setns(fd, 0);
    returned("setns", rc);
    return 0;
}
