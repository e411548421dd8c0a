/* Stopped processes. "children": five children SIGSTOP themselves and the program exits; a
 * stopped task ignores everything but SIGKILL/SIGCONT, and a box that freezes or signals
 * politely would leave them behind. The run must be OK and end at once. "self": the program
 * has a child stop it, so it never exits: the run must end by the wall limit (TLE). */
#include "hostile.h"
#include <signal.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "children";
    if (!strcmp(mode, "self")) {
        pid_t parent = getpid();
        if (fork() == 0) {
            kill(parent, SIGSTOP);
            raise(SIGSTOP);
            _exit(0);
        }
        for (;;) pause();
    }
    for (int i = 0; i < 5; i++) {
        if (fork() == 0) {
            raise(SIGSTOP);
            say("ESCAPED stopped child resumed");
            _exit(0);
        }
    }
    usleep(50 * 1000);
    say("children stopped");
    return 0;
}
