/* kill(-1, SIGKILL) signals every process the caller may signal. From the box that must
 * mean only the box's own processes: not init, not the supervisor, not the host. The program
 * survives its own call (kill(-1) spares the caller), prints, and exits: OK. */
#include "hostile.h"
#include <signal.h>
#include <sys/wait.h>

int main(void) {
    pid_t child = fork();
    if (child == 0) {
        for (;;) pause();
    }
    long rc = kill(-1, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    say("kill(-1) = %ld, child killed: %d", rc, WIFSIGNALED(status));
    return 0;
}
