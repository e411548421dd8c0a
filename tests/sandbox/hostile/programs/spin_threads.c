/* argv[1] threads spin on the CPU. A per-process or per-thread clock would see a fraction of
 * the use: the box's CPU time is summed over threads, so the run is TLE at the CPU limit
 * while the wall clock has advanced about limit/cores. */
#include "hostile.h"
#include <pthread.h>
#include <stdlib.h>

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
    spin((void *)&counters[0]);
    return 0;
}
