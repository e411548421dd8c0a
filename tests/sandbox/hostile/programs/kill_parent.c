/* Kill the parent: the payload's parent is the box's init (pid 1). Killing or stopping it
 * would break the box's bookkeeping (no verdict, orphaned processes). Every signal must fail
 * (EPERM: init belongs to the host's user namespace) or be ignored; the run ends normally. */
#include "hostile.h"
#include <signal.h>

int main(void) {
    int sigs[] = {SIGKILL, SIGTERM, SIGSTOP, SIGINT, SIGSEGV};
    pid_t targets[] = {getppid(), 1};
    for (unsigned t = 0; t < 2; t++) {
        for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
            long rc = kill(targets[t], sigs[i]);
            if (rc == 0) say("ESCAPED kill(%d, %d) succeeded", targets[t], sigs[i]);
        }
    }
    say("init still there: parent %d", getppid());
    return 0;
}
