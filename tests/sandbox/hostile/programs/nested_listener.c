/* Hijack a blocked call: install our own seccomp filter that sends ptrace to a listener we
 * hold, and answer with SECCOMP_USER_NOTIF_FLAG_CONTINUE. The kernel gives an equal-priority
 * action to the newest filter, so if our listener got the call, "continue" would run ptrace
 * past the box's filter. A correct box never lets ptrace run: the kernel refuses a second
 * listener in one filter chain (EBUSY) or the policy blocks it. Exit 42 means it ran. */
#include "hostile.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

static int listener;

static void *answer(void *arg) {
    (void)arg;
    for (;;) {
        struct seccomp_notif req;
        memset(&req, 0, sizeof req);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) continue;
        struct seccomp_notif_resp resp;
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
    return NULL;
}

int main(void) {
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {4, code};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                            SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (listener < 0) {
        say("no listener: %s", strerror(errno));
        return 3;
    }
    pthread_t t;
    pthread_create(&t, NULL, answer, NULL);
    long rc = ptrace(PTRACE_TRACEME, 0, 0, 0);
    if (rc == 0) {
        say("ESCAPED ptrace ran through our own listener");
        return 42;
    }
    say("ptrace failed: %s", strerror(errno));
    return 0;
}
