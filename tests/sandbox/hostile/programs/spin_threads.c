/* argv[1] threads spin on the CPU. A per-process or per-thread clock would see a fraction of
 * the use: the box's CPU time is summed over threads, so the run is TLE at the CPU limit.
 * Every ~10 ms the main thread prints the whole process's CPU time as the kernel counts it
 * ("cpu SECONDS"): the last line shows how much CPU the box really got before the kill,
 * however busy the host is. */
#include "hostile.h"
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static double seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *spin(void *arg) {
    volatile unsigned long *n = arg;
    for (;;) (*n)++;
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 4;
    static volatile unsigned long counters[64];
    pthread_t t;
    for (int i = 1; i < n && i < 64; i++) pthread_create(&t, NULL, spin, (void *)&counters[i]);
    for (;;) {
        double until = seconds(CLOCK_THREAD_CPUTIME_ID) + 0.01;
        while (seconds(CLOCK_THREAD_CPUTIME_ID) < until) counters[0]++;
        say("cpu %.4f", seconds(CLOCK_PROCESS_CPUTIME_ID));
    }
}
