/* Kernel keyrings are not namespaced: keys are shared with the host's user of the same uid,
 * and keyctl has a long CVE history. argv[1] is keyctl, add_key or request_key; each must be
 * SV naming that syscall. */
#include "hostile.h"
#include <stdlib.h>
#include <sys/syscall.h>

#define KEY_SPEC_SESSION_KEYRING -3
#define KEYCTL_JOIN_SESSION_KEYRING 1

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "keyctl";
    long rc;
    if (!strcmp(mode, "add_key"))
        rc = syscall(SYS_add_key, "user", "hostile", "secret", 6, KEY_SPEC_SESSION_KEYRING);
    else if (!strcmp(mode, "request_key"))
        rc = syscall(SYS_request_key, "user", "hostile", NULL, KEY_SPEC_SESSION_KEYRING);
    else
        rc = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "hostile");
    returned(mode, rc);
    return 0;
}
