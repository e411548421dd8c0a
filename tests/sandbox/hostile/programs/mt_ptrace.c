/* A blocked call from one thread of a busy multi-threaded process: seccomp kill-thread
 * actions would leave the rest running, and a per-process trap can lose the name. Three
 * threads spin while a fourth calls ptrace. Must be SV "ptrace", with the whole box ended. */
#include "hostile.h"
#include <pthread.h>
#include <sys/ptrace.h>
#include <time.h>

static void *spin(void *arg) {
    volatile unsigned long *n = arg;
    for (;;) (*n)++;
    return NULL;
}

static void *tracer(void *arg) {
    (void)arg;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    long rc = ptrace(PTRACE_TRACEME, 0, 0, 0);
    returned("ptrace from a thread", rc);
    return NULL;
}

int main(void) {
    static volatile unsigned long counters[3];
    pthread_t t[4];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, spin, (void *)&counters[i]);
    pthread_create(&t[3], NULL, tracer, NULL);
    pthread_join(t[3], NULL);
    /* Only reached if ptrace returned: keep the other threads busy a little, then stop. */
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return 0;
}
