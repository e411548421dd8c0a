/* Hide a blocked call. The box's init learns of a blocked syscall through a seccomp
 * notification, and the kernel holds the calling thread until init collects it. A signal
 * arriving before that interrupts the wait and withdraws the notification: with a handler
 * installed without SA_RESTART, the blocked call just returns EINTR. Another thread fires
 * SIGUSR1 at the caller nonstop while it calls ptrace; at the first EINTR the program
 * prints "hid attempt N" and exits 0. The call never ran, but if that ends as an ordinary OK
 * run, a program can probe blocked calls unseen. The correct outcome is SV every time. */
#include "hostile.h"
#include <pthread.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#ifndef HOGS
#define HOGS 4
#endif

static volatile pid_t caller_tid;

static void on_usr1(int sig) { (void)sig; }

/* Busy threads keep both CPUs occupied, so init, woken by the notification, waits its turn
 * to run while the storm interrupts the caller. */
static void *hog(void *arg) {
    volatile unsigned long *n = arg;
    for (;;) (*n)++;
    return NULL;
}

static void *storm(void *arg) {
    (void)arg;
    while (!caller_tid) {
    }
    for (;;) syscall(SYS_tgkill, getpid(), caller_tid, SIGUSR1);
    return NULL;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;  /* no SA_RESTART: an interrupted call returns EINTR */
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;
    static volatile unsigned long counters[HOGS];
    for (int i = 0; i < HOGS; i++) pthread_create(&t, NULL, hog, (void *)&counters[i]);
    usleep(20 * 1000);
    pthread_create(&t, NULL, storm, NULL);
    caller_tid = (pid_t)syscall(SYS_gettid);
    for (int attempt = 1; attempt <= 1000; attempt++) {
        long rc = ptrace(PTRACE_TRACEME, 0, 0, 0);
        if (rc == 0) {
            say("ESCAPED ptrace succeeded");
            return 1;
        }
        if (errno == EINTR) {
            say("hid attempt %d", attempt);
            _exit(0);
        }
    }
    say("ptrace kept failing without EINTR");
    return 0;
}
