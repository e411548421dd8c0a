/* Two threads call two different blocked syscalls at the same moment: the box must still end
 * with SV and name one of them (bpf or userfaultfd), never lose both. */
#include "hostile.h"
#include <linux/bpf.h>
#include <pthread.h>
#include <sys/syscall.h>

static pthread_barrier_t go;

static void *call_bpf(void *arg) {
    (void)arg;
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    pthread_barrier_wait(&go);
    returned("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
    return NULL;
}

static void *call_uffd(void *arg) {
    (void)arg;
    pthread_barrier_wait(&go);
    returned("userfaultfd", syscall(SYS_userfaultfd, 0));
    return NULL;
}

int main(void) {
    pthread_t a, b;
    pthread_barrier_init(&go, NULL, 2);
    pthread_create(&a, NULL, call_bpf, NULL);
    pthread_create(&b, NULL, call_uffd, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
