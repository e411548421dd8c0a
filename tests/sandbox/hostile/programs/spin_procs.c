/* Like spin_threads, with argv[1] processes: CPU must be summed over every process of the
 * box, so the spinning children cannot each take a full CPU limit. TLE. Each process prints
 * its own CPU time every ~10 ms ("cpu PID SECONDS"); the sum of each one's last line is what
 * the box really got. */
#include "hostile.h"
#include <stdlib.h>
#include <time.h>

static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 4;
    for (int i = 1; i < n; i++) {
        if (fork() == 0) break;
    }
    for (volatile unsigned long k = 0;; k++) {
        double until = cpu() + 0.01;
        while (cpu() < until) k++;
        say("cpu %d %.4f", getpid(), cpu());
    }
}
