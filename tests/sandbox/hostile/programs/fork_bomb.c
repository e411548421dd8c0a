/* The classic fork bomb: every process forks forever. The pids cgroup caps the number of
 * processes, and the spinning failures burn CPU: the run must end (TLE), promptly, and leave
 * no process behind on the host. */
#include "hostile.h"

int main(void) {
    for (;;) fork();
}
