/* A new user namespace gives "root" with full capabilities over fresh namespaces: the start
 * of most container escapes through kernel bugs. Must be SV, blocked syscall "unshare". */
#include "hostile.h"
#include <sched.h>

int main(void) {
    long rc = unshare(CLONE_NEWUSER | CLONE_NEWNS);
    returned("unshare", rc);
    return 0;
}
