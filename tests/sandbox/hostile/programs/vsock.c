/* AF_VSOCK talks to the hypervisor and other guests, outside the network namespace.
 * argv[1] "socket" or "socketpair"; both must be SV naming that call. */
#include "hostile.h"
#include <sys/socket.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "socket";
    long rc;
    if (!strcmp(mode, "socketpair")) {
        int sv[2];
        rc = socketpair(AF_VSOCK, SOCK_STREAM, 0, sv);
    } else {
        rc = socket(AF_VSOCK, SOCK_STREAM, 0);
    }
    returned(mode, rc);
    return 0;
}
