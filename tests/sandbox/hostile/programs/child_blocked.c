/* The filter must follow fork and exec: a grandchild, started through /bin/sh from a forked
 * child, calls unshare (via /usr/bin/unshare). Must be SV "unshare" even though the
 * original program never made the call itself. */
#include "hostile.h"
#include <sys/wait.h>

int main(void) {
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "/usr/bin/unshare --user --map-root-user /bin/true; echo ESCAPED sh", (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    say("ESCAPED child finished with status %d", status);
    return 0;
}
