/* A daemon: fork, setsid, fork again, and keep stdout open while sleeping a minute, after the
 * program itself exits. The run must end as soon as the program does (OK, in well under the
 * wall limit) and the daemon must die with the box, not outlive it on the host. */
#include "hostile.h"
#include <stdlib.h>
#include <sys/wait.h>

int main(void) {
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        if (fork() == 0) {
            say("daemon %d started", getpid());
            sleep(60);
            say("ESCAPED daemon outlived the program");
            _exit(0);
        }
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    usleep(50 * 1000);
    say("program done");
    return 0;
}
