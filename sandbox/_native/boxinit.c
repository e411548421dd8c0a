/*
 * boxinit: the native part of one sandbox run.
 *
 * Why native: forking the Python interpreter costs milliseconds and charges CPU and memory to
 * the box (DESIGN 4). Python plans the run (cgroups, limits, rootfs, seccomp program) and
 * spawns this small program, which does only the kernel work, in three processes:
 *
 *   outer  (host root, spawned by Python): joins the box cgroups, clones `init` into fresh
 *          pid/mount/net/ipc/uts namespaces, relays a kill request, reaps init.
 *   init   (pid 1 of the box, still host root in the host user namespace): builds the root
 *          filesystem and pivots into it, forks the payload into a new user namespace, maps
 *          its uid, reaps orphans, watches the seccomp listener, reports.
 *   payload: drops every capability, sets rlimits, installs seccomp, execs the command.
 *
 * Keeping init outside the box's user namespace means the payload can neither signal it nor
 * read its /proc entries, and every namespace the payload lives in is owned by the host user
 * namespace, so the payload's capabilities in its own user namespace grant nothing there.
 *
 * Protocol. fd 3: configuration, records "KEY\0VALUE\0" until EOF; multi-field values are
 * separated by \001. fd 4: report, text lines written by outer and init ("init PID",
 * "start NS", "cpu_base NS", "cpu_end NS", "exit STATUS NS", "exec ERRNO", "syscall ARCH NR",
 * "error MESSAGE"). The payload never holds fd 4, so it cannot forge a report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef SECBIT_NOROOT
#define SECBIT_NOROOT (1 << 0)
#define SECBIT_NOROOT_LOCKED (1 << 1)
#define SECBIT_NO_SETUID_FIXUP (1 << 2)
#define SECBIT_NO_SETUID_FIXUP_LOCKED (1 << 3)
#define SECBIT_KEEP_CAPS_LOCKED (1 << 5)
#define SECBIT_NO_CAP_AMBIENT_RAISE (1 << 6)
#define SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED (1 << 7)
#endif

#define GO_FD 0 /* a prepared box's: where the run arrives */
#define CONFIG_FD 3
#define REPORT_FD 4
#define MAX_ITEMS 256

struct rlim_item { int resource; rlim_t soft, hard; };

static struct {
    pid_t ppid;
    uid_t uid;
    gid_t gid;
    uid_t keeper_uid;                /* host uid (and gid) of the keeper; 0 without seccomp */
    const char *newroot;
    const char *hostname;
    const char *cwd;
    const char *cg2;                 /* v2: clone straight into this cgroup */
    const char *cpufile;             /* the box cgroup's CPU counter */
    int cpu_usec;                    /* its unit: 1 for cpu.stat (usec), 0 for ns */
    int trace;                       /* report "trace LABEL NS" at each stage (profiling) */
    const char *cgtasks[16];         /* v1: write "0" to these `tasks` files */
    int n_cgtasks;
    int boxfd;                       /* detached tmpfs mount for /box, made by Python */
    int netfd;                       /* a network namespace to join; -1: make a new one */
    int prepared;                    /* a warm box: build everything, then wait for "go" */
    char *ops[MAX_ITEMS];            /* rootfs operations in order: "kind\001a\001b" */
    int n_ops;
    char *argv[MAX_ITEMS + 1];
    int argc;
    char *envp[MAX_ITEMS + 1];
    int envc;
    struct rlim_item rlimits[16];
    int n_rlimits;
    unsigned char *bpf;
    size_t bpf_len;
    char *execs[MAX_ITEMS];          /* the only places the program may execute from */
    int n_execs;
    int memfd_noexec;                /* vm.memfd_noexec for the box's pid namespace */
} cfg = { .boxfd = -1, .netfd = -1 };


/* Lines held back by hold_reports() and written at once by flush_reports(): the final
 * lines of a run wake the supervisor once, not once per line. */
static char held[2048];
static size_t held_len;
static int holding;

static void report(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
    buf[n++] = '\n';
    if (holding && held_len + (size_t)n <= sizeof held) {
        memcpy(held + held_len, buf, (size_t)n);
        held_len += (size_t)n;
        return;
    }
    ssize_t rc = write(REPORT_FD, buf, (size_t)n);
    (void)rc;
}

static void hold_reports(void) { holding = 1; }

static void flush_reports(void) {
    if (held_len) {
        ssize_t rc = write(REPORT_FD, held, held_len);
        (void)rc;
    }
    held_len = 0;
    holding = 0;
}

__attribute__((noreturn)) static void fail(const char *what) {
    report("error %s: %s", what, strerror(errno));
    _exit(121);
}

__attribute__((noreturn)) static void fail2(const char *what, const char *path) {
    report("error %s %s: %s", what, path, strerror(errno));
    _exit(121);
}

static uint64_t now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void write_file(const char *path, const char *data) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail2("open", path);
    size_t len = strlen(data);
    if (write(fd, data, len) != (ssize_t)len) fail2("write", path);
    close(fd);
}

/* The box cgroup's CPU counter in ns: "N" (v1 cpuacct.usage) or "usage_usec N\n..." (v2). */
static long long read_cpu(int fd) {
    char buf[128];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return -1;
    buf[n] = 0;
    if (cfg.cpu_usec) {
        char *p = strchr(buf, ' ');
        return p ? strtoll(p + 1, NULL, 10) * 1000 : -1;
    }
    return strtoll(buf, NULL, 10);
}

#define TRACE(label)                                                                      \
    do {                                                                                  \
        if (cfg.trace) report("trace %s %llu", label, (unsigned long long)now_ns(CLOCK_MONOTONIC)); \
    } while (0)

/* ---------- configuration ---------- */

static char *config_buf;

static void parse_config(char *buf, size_t len);

static void read_config(void) {
    size_t cap = 1 << 16, len = 0;
    config_buf = malloc(cap);
    if (!config_buf) fail("malloc");
    for (;;) {
        if (len == cap) {
            cap *= 2;
            config_buf = realloc(config_buf, cap);
            if (!config_buf) fail("realloc");
        }
        ssize_t n = read(CONFIG_FD, config_buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("read config");
        if (n == 0) break;
        len += (size_t)n;
    }
    close(CONFIG_FD);
    parse_config(config_buf, len);
    /* A prepared box learns its command at "go" (see run_payload). */
    if ((!cfg.argc && !cfg.prepared) || !cfg.newroot || !cfg.uid) {
        errno = EINVAL;
        fail("incomplete config");
    }
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Records "KEY\0VALUE\0"; values point into `buf`, which must outlive cfg. */
static void parse_config(char *buf, size_t len) {
    char *config_buf = buf;
    size_t pos = 0;
    while (pos < len) {
        char *key = config_buf + pos;
        char *kend = memchr(key, 0, len - pos);
        if (!kend || kend + 1 >= config_buf + len) break;
        char *val = kend + 1;
        char *vend = memchr(val, 0, (size_t)(config_buf + len - val));
        if (!vend) break;
        pos = (size_t)(vend + 1 - config_buf);
        if (!strcmp(key, "ppid")) cfg.ppid = atoi(val);
        else if (!strcmp(key, "uid")) cfg.uid = (uid_t)strtoul(val, NULL, 10);
        else if (!strcmp(key, "gid")) cfg.gid = (gid_t)strtoul(val, NULL, 10);
        else if (!strcmp(key, "keeper")) cfg.keeper_uid = (uid_t)strtoul(val, NULL, 10);
        else if (!strcmp(key, "newroot")) cfg.newroot = val;
        else if (!strcmp(key, "hostname")) cfg.hostname = val;
        else if (!strcmp(key, "cwd")) cfg.cwd = val;
        else if (!strcmp(key, "cg2")) cfg.cg2 = val;
        else if (!strcmp(key, "cpufile")) cfg.cpufile = val;
        else if (!strcmp(key, "cpuusec")) cfg.cpu_usec = atoi(val);
        else if (!strcmp(key, "trace")) cfg.trace = atoi(val);
        else if (!strcmp(key, "cgtasks") && cfg.n_cgtasks < 16) cfg.cgtasks[cfg.n_cgtasks++] = val;
        else if (!strcmp(key, "boxfd")) cfg.boxfd = atoi(val);
        else if (!strcmp(key, "netfd")) cfg.netfd = atoi(val);
        else if (!strcmp(key, "prepared")) cfg.prepared = atoi(val);
        else if (!strcmp(key, "op") && cfg.n_ops < MAX_ITEMS) cfg.ops[cfg.n_ops++] = val;
        else if (!strcmp(key, "arg") && cfg.argc < MAX_ITEMS) cfg.argv[cfg.argc++] = val;
        else if (!strcmp(key, "exec") && cfg.n_execs < MAX_ITEMS) cfg.execs[cfg.n_execs++] = val;
        else if (!strcmp(key, "memfdnx")) cfg.memfd_noexec = atoi(val);
        else if (!strcmp(key, "env") && cfg.envc < MAX_ITEMS) cfg.envp[cfg.envc++] = val;
        else if (!strcmp(key, "rlimit") && cfg.n_rlimits < 16) {
            struct rlim_item *r = &cfg.rlimits[cfg.n_rlimits++];
            char *p = val;
            r->resource = (int)strtol(p, &p, 10);
            r->soft = (rlim_t)strtoull(p + 1, &p, 10);
            r->hard = (rlim_t)strtoull(p + 1, &p, 10);
        } else if (!strcmp(key, "seccomp")) {
            size_t hex = strlen(val);
            cfg.bpf_len = hex / 2;
            cfg.bpf = malloc(cfg.bpf_len + 1);
            if (!cfg.bpf) fail("malloc");
            /* Not sscanf: it takes the rest of the string's length at every call, which
             * made decoding the ~10 KB program quadratic (0.4 ms of CPU per box). */
            for (size_t i = 0; i < cfg.bpf_len; i++) {
                int high = hex_digit(val[2 * i]), low = hex_digit(val[2 * i + 1]);
                if (high < 0 || low < 0) {
                    errno = EINVAL;
                    fail("seccomp program");
                }
                cfg.bpf[i] = (unsigned char)(high << 4 | low);
            }
        } else {
            errno = EINVAL;
            fail2("unknown config key", key);
        }
    }
    cfg.argv[cfg.argc] = NULL;
    cfg.envp[cfg.envc] = NULL;
}

/* Split "a\001b\001c" in place. */
static int split(char *s, char **out, int max) {
    int n = 0;
    out[n++] = s;
    for (char *p = s; *p && n < max; p++) {
        if (*p == '\001') {
            *p = 0;
            out[n++] = p + 1;
        }
    }
    return n;
}

/* ---------- root filesystem (init, host root, inside the new mount namespace) ---------- */

static char pathbuf[4096];

static const char *in_root(const char *path) {
    snprintf(pathbuf, sizeof pathbuf, "%s%s", cfg.newroot, path);
    return pathbuf;
}

static void mkdir_p(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST) fail2("mkdir", tmp);
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST) fail2("mkdir", tmp);
}

static void ensure_parent(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    char *slash = strrchr(tmp, '/');
    if (slash && slash != tmp) {
        *slash = 0;
        mkdir_p(tmp);
    }
}

static void bind_readonly(const char *src, const char *dst_in_box, unsigned long extra) {
    struct stat st;
    if (stat(src, &st) < 0) fail2("stat", src);
    const char *dst = in_root(dst_in_box);
    ensure_parent(dst);
    if (S_ISDIR(st.st_mode)) {
        if (mkdir(dst, 0755) < 0 && errno != EEXIST) fail2("mkdir", dst);
    } else {
        int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) fail2("create", dst);
        close(fd);
    }
    /* Not MS_REC: submounts of a host dir stay out of the box. */
    if (mount(src, dst, NULL, MS_BIND, NULL) < 0) fail2("bind", src);
    /* A bind keeps the source's flags; read-only needs a second, remounting call. */
    if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | extra,
              NULL) < 0)
        fail2("remount read-only", dst);
}

static void make_device(const char *name) {
    char host[256];
    struct stat st;
    snprintf(host, sizeof host, "/dev/%s", name);
    if (stat(host, &st) < 0) fail2("stat", host);
    char box[300];
    snprintf(box, sizeof box, "/dev/%s", name);
    /* init is root in the host user namespace, so mknod works here; the payload, without
     * CAP_MKNOD in the host namespace, can never make a device of its own. */
    if (mknod(in_root(box), S_IFCHR | 0666, st.st_rdev) < 0) fail2("mknod", box);
    chmod(in_root(box), 0666);
}

/* Linux 6.3+: memfds of this pid namespace are never executable (the box's files are, by
 * Landlock, see restrict_execution; a memfd it cannot see). The value is the writer's pid
 * namespace's, ours; written through the box's own new proc, whose /proc/sys is writable
 * even where a container's is not. Best effort, like the sysctl itself: older kernels lack
 * the file, and a root that is not the host's (rootless engines) may not write it; boxes run
 * as before there (the README says what stays open). */
static void set_memfd_noexec(const char *path) {
    if (!cfg.memfd_noexec) return;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    char value[16];
    int n = snprintf(value, sizeof value, "%d", cfg.memfd_noexec);
    ssize_t rc = write(fd, value, (size_t)n);
    (void)rc;
    close(fd);
}

static void build_rootfs(void) {
    /* Our copy of the host mount tree must not propagate anything back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("make mounts private");
    if (mount("tmpfs", cfg.newroot, "tmpfs", MS_NOSUID, "size=1m,nr_inodes=4096,mode=0755") < 0)
        fail2("mount root tmpfs", cfg.newroot);
    for (int i = 0; i < cfg.n_ops; i++) {
        char *f[5];
        int n = split(cfg.ops[i], f, 5);
        const char *kind = f[0];
        if (!strcmp(kind, "dir") && n >= 2) {
            mkdir_p(in_root(f[1]));
        } else if (!strcmp(kind, "ro") && n >= 3) {
            bind_readonly(f[1], f[2], 0);
        } else if (!strcmp(kind, "symlink") && n >= 3) {
            const char *link = in_root(f[2]);
            ensure_parent(link);
            if (symlink(f[1], link) < 0 && errno != EEXIST) fail2("symlink", f[2]);
        } else if (!strcmp(kind, "file") && n >= 3) {
            const char *p = in_root(f[1]);
            ensure_parent(p);
            int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0) fail2("create", f[1]);
            size_t len = strlen(f[2]);
            if (write(fd, f[2], len) != (ssize_t)len) fail2("write", f[1]);
            close(fd);
        } else if (!strcmp(kind, "dev") && n >= 2) {
            make_device(f[1]);
        } else if (!strcmp(kind, "proc") && n >= 2) {
            mkdir_p(in_root(f[1]));
            /* init is pid 1 of the new pid namespace, so this proc shows only the box. */
            if (mount("proc", in_root(f[1]), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                fail("mount proc");
            set_memfd_noexec(in_root("/proc/sys/vm/memfd_noexec"));
        } else if (!strcmp(kind, "mask") && n >= 2) {
            /* Hide a sensitive file by binding /dev/null over it; absent files are fine. */
            const char *p = in_root(f[1]);
            if (access(p, F_OK) == 0 && mount("/dev/null", p, NULL, MS_BIND, NULL) < 0)
                fail2("mask", f[1]);
        } else if (!strcmp(kind, "maskdir") && n >= 2) {
            const char *p = in_root(f[1]);
            if (access(p, F_OK) == 0 &&
                mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      "size=0,nr_inodes=1,mode=0555") < 0)
                fail2("mask dir", f[1]);
        } else if (!strcmp(kind, "rodir") && n >= 2) {
            const char *p = in_root(f[1]);
            if (access(p, F_OK) == 0) {
                if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) fail2("bind", f[1]);
                if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
                          NULL) < 0)
                    fail2("remount read-only", f[1]);
            }
        } else if (!strcmp(kind, "tmpfs") && n >= 3) {
            /* Writable scratch space: capped in bytes and inodes, and its pages are charged
             * to the box's memory cgroup, since the payload is the one writing them. */
            const char *p = in_root(f[1]);
            mkdir_p(p);
            char opts[256];
            snprintf(opts, sizeof opts, "%s,uid=%u,gid=%u", f[2], cfg.uid, cfg.gid);
            if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
                fail2("mount tmpfs", f[1]);
        } else if (!strcmp(kind, "box") && n >= 2) {
            const char *p = in_root(f[1]);
            mkdir_p(p);
            if (syscall(SYS_move_mount, cfg.boxfd, "", AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                fail("attach /box");
            close(cfg.boxfd);
        } else {
            errno = EINVAL;
            fail2("bad rootfs op", kind);
        }
    }
    /* Everything not explicitly writable stays read-only, the root itself included. */
    if (mount(NULL, cfg.newroot, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID, NULL) < 0)
        fail("remount root read-only");
    if (chdir(cfg.newroot) < 0) fail("chdir new root");
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root");
    /* The old root now sits on top of the new one; detach it so no host path is reachable. */
    if (umount2(".", MNT_DETACH) < 0) fail("detach old root");
    if (chdir("/") < 0) fail("chdir /");
}

/* ---------- payload (child of init, in its own user namespace) ---------- */

static int drop_capabilities(void) {
    /* Locked securebits: exec as uid 0 never regains capabilities, setuid never restores. */
    if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                                     SECBIT_NO_CAP_AMBIENT_RAISE |
                                     SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) < 0)
        return -1;
    for (int cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL) break; /* past CAP_LAST_CAP */
            return -1;
        }
    }
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) < 0) return -1;
    return 0;
}

#define MAX_MSG_FDS 4
/* Room for a "go" message: Python sends the per-run records only when they fit. */
#define GO_MAX (64 * 1024)

/* One SEQPACKET message with up to MAX_MSG_FDS descriptors. */
static int send_msg(int sock, const void *data, size_t len, const int *fds, int nfds) {
    struct iovec iov = {(void *)data, len};
    union {
        char buf[CMSG_SPACE(MAX_MSG_FDS * sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        msg.msg_control = u.buf;
        msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    }
    ssize_t rc;
    do rc = sendmsg(sock, &msg, MSG_NOSIGNAL); while (rc < 0 && errno == EINTR);
    return rc < 0 ? -1 : 0;
}

/* Receive one message: returns its length (-1 on error or EOF); *nfds descriptors land in fds. */
static ssize_t recv_msg(int sock, void *data, size_t cap, int *fds, int *nfds) {
    struct iovec iov = {data, cap};
    union {
        char buf[CMSG_SPACE(MAX_MSG_FDS * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf};
    ssize_t n;
    do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
    *nfds = 0;
    if (n <= 0) return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        int got = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        if (got > MAX_MSG_FDS) got = MAX_MSG_FDS;
        memcpy(fds, CMSG_DATA(c), (size_t)got * sizeof(int));
        *nfds = got;
    }
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        for (int i = 0; i < *nfds; i++) close(fds[i]);
        *nfds = 0;
        return -1;
    }
    return n;
}

static void send_fd(int sock, int fd) {
    (void)send_msg(sock, "L", 1, &fd, 1);
}

static pid_t keeper_pid; /* init: the seccomp keeper, as the payload reported it */

/* The listener's fd; -1 with no message, -2 with a message that carries none. The message's
 * data is the keeper's pid (0 without one). */
static int recv_fd(int sock) {
    pid_t pid = 0;
    int fds[MAX_MSG_FDS], nfds;
    ssize_t n = recv_msg(sock, &pid, sizeof pid, fds, &nfds);
    if (n < 0) return -1;
    if (n == (ssize_t)sizeof pid) keeper_pid = pid;
    for (int i = 1; i < nfds; i++) close(fds[i]);
    return nfds ? fds[0] : -2;
}

/* Write errno to the exec-error pipe and die: the only channel from payload setup to init. */
__attribute__((noreturn)) static void payload_fail(int errpipe, int code) {
    int e = errno ? errno : EINVAL;
    int msg[2] = {code, e};
    ssize_t rc = write(errpipe, msg, sizeof msg);
    (void)rc;
    _exit(127);
}

enum { STEP_SYNC = 1, STEP_IDS, STEP_CAPS, STEP_RLIMIT, STEP_SECCOMP, STEP_EXEC, STEP_CWD,
       STEP_KEEPER, STEP_GO, STEP_LANDLOCK };

/* The keeper: a process that holds the payload's seccomp filter, as init's child (CLONE_PARENT)
 * under the box's second uid, so the payload can neither signal it nor wait for it. A signal
 * can withdraw a blocked call's notification before init reads it; the kernel still counts
 * it, and RECV then answers ENOENT, but only while the filter has a live user. The keeper is
 * that user when init drains the listener at the payload's exit (see drain_listener). */
static pid_t start_keeper(int errpipe) {
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0) payload_fail(errpipe, STEP_KEEPER);
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) payload_fail(errpipe, STEP_KEEPER);
    if (pid > 0) {
        /* The program must not run until the keeper is out of its reach (uid 1). */
        char byte;
        close(ready[1]);
        ssize_t n;
        do n = read(ready[0], &byte, 1); while (n < 0 && errno == EINTR);
        if (n != 1) payload_fail(errpipe, STEP_KEEPER);
        close(ready[0]);
        return pid;
    }
    close(ready[0]);
    /* Still holding our user namespace's capabilities: become uid 1 (its own host uid). */
    if (setresgid(1, 1, 1) < 0 || setresuid(1, 1, 1) < 0) _exit(1);
    drop_capabilities();
    prctl(PR_SET_DUMPABLE, 0);
    /* Not the OOM killer's first choice (the payload's score is 1000). */
    int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (oom >= 0) {
        ssize_t rc = write(oom, "0", 1);
        (void)rc;
        close(oom);
    }
    if (write(ready[1], "k", 1) != 1) _exit(1);
    syscall(SYS_close_range, 0U, ~0U, 0U);
    for (;;) pause();
}

static void set_rlimits(int errpipe) {
    for (int i = 0; i < cfg.n_rlimits; i++) {
        struct rlimit rl = {cfg.rlimits[i].soft, cfg.rlimits[i].hard};
        if (setrlimit(cfg.rlimits[i].resource, &rl) < 0) payload_fail(errpipe, STEP_RLIMIT);
    }
}

/* A prepared payload waits here, filter installed and keeper running, until the supervisor
 * sends the run on GO_FD: its records (argv, env, rlimits) and its stdin, stdout and
 * stderr. RLIMIT_CORE was set before the filter (which forbids changing it) and is not
 * among them. dup2 over fd 0 closes the "go" socket: the program never holds it. */
static void await_go(int sock, int errpipe) {
    char *blob = malloc(GO_MAX);
    int fds[MAX_MSG_FDS], nfds;
    if (!blob) payload_fail(errpipe, STEP_GO);
    close(sock);
    ssize_t n = recv_msg(GO_FD, blob, GO_MAX, fds, &nfds);
    if (n < 0 || nfds != 3) {
        errno = EPROTO;
        payload_fail(errpipe, STEP_GO);
    }
    /* Through copies above 2 first, so no received fd is overwritten by another's dup2. */
    int high[3];
    for (int i = 0; i < 3; i++) {
        high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
        if (high[i] < 0) payload_fail(errpipe, STEP_GO);
        close(fds[i]);
    }
    for (int i = 0; i < 3; i++)
        if (dup2(high[i], i) < 0) payload_fail(errpipe, STEP_GO);
    cfg.n_rlimits = 0;
    cfg.n_execs = 0;
    parse_config(blob, (size_t)n);
    if (!cfg.argc) {
        errno = EINVAL;
        payload_fail(errpipe, STEP_GO);
    }
    set_rlimits(errpipe);
    if (chdir(cfg.cwd ? cfg.cwd : "/") < 0) payload_fail(errpipe, STEP_CWD);
}

/* Execution only from what the box cannot write: the system's read-only trees and the
 * files given as executables (owned by host root, mode 0555). A file the program writes and
 * executes would otherwise reach the kernel's binary-format autoload: a first 4 bytes no
 * handler knows make exec ask for module "binfmt-XXXX", and the kernel runs modprobe as
 * host root, outside the box's cgroup and limits, once per attempt. Landlock is applied
 * here, at the last moment before exec: the run's files are in /box only at "go". */
#define LL_ACCESS_FS_EXECUTE (1ULL << 0)
#define LL_RULE_PATH_BENEATH 1
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
static void restrict_execution(int errpipe) {
    if (!cfg.n_execs) return;
    uint64_t handled = LL_ACCESS_FS_EXECUTE; /* the ABI 1 ruleset: one 64-bit field */
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &handled, sizeof handled, 0);
    if (ruleset < 0) payload_fail(errpipe, STEP_LANDLOCK);
    for (int i = 0; i < cfg.n_execs; i++) {
        int fd = open(cfg.execs[i], O_PATH | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) continue; /* (a bind the host lacks is not in the box) */
            payload_fail(errpipe, STEP_LANDLOCK);
        }
        struct __attribute__((packed)) { uint64_t allowed; int32_t parent_fd; } beneath =
            {LL_ACCESS_FS_EXECUTE, fd};
        if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &beneath, 0) < 0)
            payload_fail(errpipe, STEP_LANDLOCK);
        close(fd);
    }
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) payload_fail(errpipe, STEP_LANDLOCK);
    close(ruleset);
}

__attribute__((noreturn)) static void run_payload(int sync_rd, int errpipe, int sock) {
    char go;
    /* Wait until init has written our uid/gid maps. */
    if (read(sync_rd, &go, 1) != 1) payload_fail(errpipe, STEP_SYNC);
    close(sync_rd);
    /* In an OOM the kernel must pick the payload (and its children), never init: raising
     * our own score needs no privilege, unlike lowering init's (no CAP_SYS_RESOURCE). */
    int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (oom >= 0) {
        ssize_t rc = write(oom, "1000", 4);
        (void)rc;
        close(oom);
    }
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) payload_fail(errpipe, STEP_IDS);
    /* A new session: no controlling terminal, so TIOCSTI has nothing to inject into. */
    setsid();
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    /* Handlers reset at exec by themselves; ignored signals do not. Python ignores these. */
    signal(SIGPIPE, SIG_DFL);
    signal(SIGXFSZ, SIG_DFL);
    signal(SIGXCPU, SIG_DFL);
    set_rlimits(errpipe);
    if (!cfg.prepared && chdir(cfg.cwd ? cfg.cwd : "/") < 0) payload_fail(errpipe, STEP_CWD);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) payload_fail(errpipe, STEP_CAPS);
    if (cfg.bpf) {
        struct sock_fprog prog = {(unsigned short)(cfg.bpf_len / sizeof(struct sock_filter)),
                                  (struct sock_filter *)cfg.bpf};
        /* Blocked calls notify init, which names the syscall and ends the box; the payload
         * cannot forge a notification. What follows before exec (the keeper, dropping
         * capabilities, closing fds) needs no call the filter blocks. */
        long lfd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                           &prog);
        if (lfd < 0) payload_fail(errpipe, STEP_SECCOMP);
        pid_t keeper = cfg.keeper_uid ? start_keeper(errpipe) : 0;
        int listener_fd = (int)lfd;
        send_msg(sock, &keeper, sizeof keeper, &listener_fd, 1);
        close(listener_fd);
    } else if (cfg.prepared) {
        send_msg(sock, "N", 1, NULL, 0); /* ready, with no filter to hand over */
    }
    if (cfg.prepared) await_go(sock, errpipe);
    restrict_execution(errpipe);
    if (drop_capabilities() < 0) payload_fail(errpipe, STEP_CAPS);
    /* Only fds 0-2 survive the exec (DESIGN 5.8). */
    syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    close(sock);
    execvpe(cfg.argv[0], cfg.argv, cfg.envp);
    payload_fail(errpipe, STEP_EXEC);
}

/* ---------- init (pid 1 of the box) ---------- */

static const char *step_name(int step) {
    switch (step) {
    case STEP_SYNC: return "uid map handshake";
    case STEP_IDS: return "set ids";
    case STEP_CAPS: return "drop capabilities";
    case STEP_RLIMIT: return "set rlimits";
    case STEP_SECCOMP: return "install seccomp filter";
    case STEP_CWD: return "chdir";
    case STEP_KEEPER: return "start the seccomp keeper";
    case STEP_GO: return "receive the run";
    case STEP_LANDLOCK: return "restrict execution (Landlock)";
    default: return "setup";
    }
}

/* "0 HOST 1" for the box's root, plus "1 KEEPER 1" when a seccomp keeper runs. */
static void write_id_map(pid_t pid, const char *file, unsigned int host) {
    char path[64], map[64];
    if (cfg.keeper_uid)
        snprintf(map, sizeof map, "0 %u 1\n1 %u 1\n", host, cfg.keeper_uid);
    else
        snprintf(map, sizeof map, "0 %u 1\n", host);
    snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
    write_file(path, map);
}

static void write_id_maps(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
    write_file(path, "deny");
    write_id_map(pid, "uid_map", cfg.uid);
    write_id_map(pid, "gid_map", cfg.gid);
}

/* Kill and reap every other process of the box: orphans are re-parented to us (pid 1), so
 * when waitpid says there is no child left, we are the only process in the namespace. The
 * "exit" report line comes after this, and it is the last: the supervisor may take its
 * result then, and leave our own exit (namespace teardown) to finish in the background. */
static void kill_all(void) {
    /* The keeper sleeps on whatever CPU it last ran on; an idle one must be woken by an
     * interrupt (~0.1 ms on a VM) before it can die. Moved to ours, its death is a local
     * wake-up once we wait for it. */
    if (keeper_pid > 0) {
        int cpu = sched_getcpu();
        cpu_set_t here;
        CPU_ZERO(&here);
        if (cpu >= 0) {
            CPU_SET(cpu, &here);
            sched_setaffinity(keeper_pid, sizeof here, &here);
        }
    }
    kill(-1, SIGKILL);
}

static void reap_all(void) {
    kill_all();
    for (;;) {
        pid_t w = waitpid(-1, NULL, __WALL);
        if (w < 0 && errno != EINTR) break;
    }
}

/* A blocked call ends the box: name it, stop everything, report. */
__attribute__((noreturn)) static void violation(int arch, int nr, int cpufd) {
    uint64_t end = now_ns(CLOCK_MONOTONIC);
    reap_all();
    hold_reports();
    if (nr >= 0) report("syscall %u %d", (unsigned)arch, nr);
    else report("syscall_hidden"); /* withdrawn by a signal: see drain_listener */
    if (cpufd >= 0) report("cpu_end %lld", read_cpu(cpufd));
    report("exit %d %llu", (int)SIGSYS, (unsigned long long)end);
    flush_reports();
    _exit(0);
}

static void on_alarm(int sig) { (void)sig; }

/* A signal that reaches a thread blocked in a notification withdraws it before poll() can
 * show it, and the call returns EINTR unexecuted: a program could probe blocked calls that
 * way. The kernel still counts the withdrawn notification, so RECV answers ENOENT at once.
 * RECV blocks when nothing is pending, so a repeating timer (no SA_RESTART) interrupts it.
 * Only valid while the filter has a live user (an orphaned listener answers ENOENT too):
 * the keeper is one until init kills it. */
static void drain_listener(int listener, int cpufd) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 1000}, {0, 20}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct seccomp_notif req;
    memset(&req, 0, sizeof req);
    int rc = ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req);
    int err = errno;
    struct itimerval off;
    memset(&off, 0, sizeof off);
    setitimer(ITIMER_REAL, &off, NULL);
    if (rc == 0) violation((int)req.data.arch, req.data.nr, cpufd);
    if (err == ENOENT) violation(0, -1, cpufd);
}

/* A warm box: release the payload to set itself up (ids, seccomp, keeper) and report
 * "ready". The payload then waits on GO_FD, which the supervisor writes the run to (its
 * records, stdin, stdout and stderr) after putting its files in /box and reading the clocks
 * that start the run: one wake-up between the supervisor and the program. Returns the
 * seccomp listener (negative without a filter). */
static int prepare(int sync_wr, int sock, int errpipe) {
    if (write(sync_wr, "g", 1) != 1) fail("release payload");
    close(sync_wr);
    int listener = recv_fd(sock);
    close(sock);
    if (listener == -1) {
        int msg[2];
        if (read(errpipe, msg, sizeof msg) == (ssize_t)sizeof msg) errno = msg[1];
        fail("prepare the payload");
    }
    close(GO_FD); /* the payload's to read, and then to close */
    TRACE("ready");
    report("ready");
    return listener;
}

__attribute__((noreturn)) static void run_init(void) {
    /* The box dies with its supervisor, whatever killed the supervisor. */
    /* (getppid() is 0 here: our parent lives outside the new pid namespace.) */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* v1: a single-threaded process moving itself ("0" into `tasks`) skips the global
     * threadgroup lock whose RCU grace period costs 10-30 ms per spaced-out move. Joining
     * here, after the clone, keeps namespace creation off the box's CPU bill. */
    for (int i = 0; i < cfg.n_cgtasks; i++) write_file(cfg.cgtasks[i], "0");
    int cpufd = cfg.cpufile ? open(cfg.cpufile, O_RDONLY | O_CLOEXEC) : -1;
    if (cfg.cpufile && cpufd < 0) fail2("open", cfg.cpufile);
    TRACE("init_joined");
    /* Our cgroup is the box's now: make it the root of what the box can see. */
    if (unshare(CLONE_NEWCGROUP) < 0) fail("unshare cgroup namespace");
    build_rootfs();
    TRACE("rootfs");
    if (cfg.hostname && sethostname(cfg.hostname, strlen(cfg.hostname)) < 0) fail("sethostname");

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) fail("signalfd");

    int sync[2], errp[2], sv[2];
    if (pipe2(sync, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) fail("pipe");
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) fail("socketpair");

    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) fail("clone payload");
    if (pid == 0) {
        close(sync[1]);
        close(errp[0]);
        close(sv[0]);
        close(sfd);
        close(REPORT_FD);
        run_payload(sync[0], errp[1], sv[1]);
    }
    TRACE("payload_cloned");
    /* Where we hold CAP_SYS_RESOURCE, the OOM killer can never pick init (after the clone,
     * so the payload does not inherit the floor). Without it the outer reports the loss and
     * the verdict comes from the box's OOM counter. */
    int oomfd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (oomfd >= 0) {
        ssize_t rc = write(oomfd, "-1000", 5);
        (void)rc;
        close(oomfd);
    }
    close(sync[0]);
    close(errp[1]);
    close(sv[1]);
    write_id_maps(pid);
    int listener;
    if (cfg.prepared) {
        listener = prepare(sync[1], sv[0], errp[0]);
    } else {
        uint64_t start = now_ns(CLOCK_MONOTONIC);
        /* Setup work (mounts, our own process) is not the program's: measure from here. */
        long long cpu_base = cpufd >= 0 ? read_cpu(cpufd) : -1;
        report("cpu_base %lld", cpu_base);
        report("start %llu", (unsigned long long)start);
        if (write(sync[1], "g", 1) != 1) fail("release payload");
        close(sync[1]);
        listener = recv_fd(sv[0]);
        close(sv[0]);
    }
    TRACE("listener");
    /* Nothing of ours stays reachable as the box's stdio. */
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        close(devnull);
    }

    int status = 0;
    int watching = listener >= 0; /* polled until every filter user is gone (HUP) */
    for (;;) {
        struct pollfd pfd[2] = {{sfd, POLLIN, 0}, {listener, POLLIN, 0}};
        int n = poll(pfd, watching ? 2 : 1, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("poll");
        if (watching && (pfd[1].revents & POLLIN)) {
            struct seccomp_notif req;
            memset(&req, 0, sizeof req);
            if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0)
                violation((int)req.data.arch, req.data.nr, cpufd);
            /* poll saw a notification, then a signal withdrew it before RECV: still a
             * blocked call, and RECV has consumed its count, so no later drain sees it. */
            if (errno == ENOENT) violation(0, -1, cpufd);
        } else if (watching && (pfd[1].revents & (POLLHUP | POLLERR | POLLNVAL))) {
            watching = 0;
        }
        if (pfd[0].revents & POLLIN) {
            TRACE("sigchld");
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
            int st;
            pid_t w;
            while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
                if (w == pid) {
                    status = st;
                    /* With the keeper dead (an OOM kill) the filter may be orphaned, and
                     * an orphaned listener's ENOENT means nothing: drain only while live. */
                    struct pollfd live = {listener, POLLIN, 0};
                    if (listener >= 0 && cfg.keeper_uid && poll(&live, 1, 0) >= 0 &&
                        !(live.revents & POLLHUP))
                        drain_listener(listener, cpufd);
                    TRACE("drained");
                    goto done;
                }
            }
        }
    }
done:;
    uint64_t end = now_ns(CLOCK_MONOTONIC);
    hold_reports();
    if (cpufd >= 0) report("cpu_end %lld", read_cpu(cpufd));
    /* Early, so the rest of the box (the keeper at least) dies while we write the report. */
    kill_all();
    int msg[2];
    if (read(errp[0], msg, sizeof msg) == (ssize_t)sizeof msg) {
        if (msg[0] == STEP_EXEC)
            report("exec %d", msg[1]);
        else
            report("error payload %s: %s", step_name(msg[0]), strerror(msg[1]));
    }
    /* The payload is gone: so is everything it left behind. */
    TRACE("killed");
    reap_all();
    TRACE("reaped");
    report("exit %d %llu", status, (unsigned long long)end);
    flush_reports();
    _exit(0);
}

/* ---------- outer ---------- */

#define CONTROL_FD 6

/* One run. fd 6 is the control pipe: a byte or EOF from the supervisor ends the box at once. */
static int outer_main(void) {
    read_config();
    TRACE("configured");
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (cfg.ppid && getppid() != cfg.ppid) _exit(120);
    /* Host supplementary groups (root's) must not follow the payload into its namespace. */
    if (setgroups(0, NULL) < 0) fail("setgroups");
    struct clone_args args;
    memset(&args, 0, sizeof args);
    int initfd = -1;
    args.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                 CLONE_PIDFD;
    if (cfg.netfd >= 0) {
        /* A namespace the supervisor lends this box alone (made by it, or left exactly as
         * new by an earlier box: sandbox/_netns.py). Joined here, as host root, so init and
         * the box are born in it; our fd goes before the clone, so nothing in the box has
         * a handle on it. */
        if (setns(cfg.netfd, CLONE_NEWNET) < 0) fail("join network namespace");
        close(cfg.netfd);
        args.flags &= ~(uint64_t)CLONE_NEWNET;
    }
    args.pidfd = (uint64_t)(uintptr_t)&initfd;
    args.exit_signal = SIGCHLD;
    int cgfd = -1;
    if (cfg.cg2) {
        /* v2: born inside the box cgroup, so no migration at all. */
        cgfd = open(cfg.cg2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgfd < 0) fail2("open cgroup", cfg.cg2);
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgfd;
    }
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) fail("clone box");
    if (pid == 0) {
        close(CONTROL_FD);
        run_init();
    }
    if (cgfd >= 0) close(cgfd);
    if (cfg.boxfd >= 0) close(cfg.boxfd);
    /* Only init holds the run's stdio now: the supervisor sees EOF on the program's output
     * when the program's last process is gone, not when we are. */
    for (int fd = 0; fd <= 2; fd++) close(fd);
    report("init %d", pid);
    int killed = 0;
    for (;;) {
        struct pollfd pfd[2] = {{initfd, POLLIN, 0}, {CONTROL_FD, POLLIN, 0}};
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR) continue;
            fail("poll");
        }
        if (pfd[0].revents) break;
        if (pfd[1].revents) {
            /* init is our unreaped child: its pid cannot have been reused. */
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && !killed)
        report("lost %llu", (unsigned long long)now_ns(CLOCK_MONOTONIC)); /* the OOM killer? */
    else if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
        report("error init killed by signal %d", WTERMSIG(st));
    else if (WIFEXITED(st) && WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 121)
        report("error init exited with %d", WEXITSTATUS(st));
    return 0;
}

/* ---------- server (zygote) ---------- */

#define SERVE_FDS 8

/* `boxinit --serve`: fd 3 is a SOCK_SEQPACKET socket to the supervisor. Each message carries
 * the fds of one run (stdin, stdout, stderr, config, report, /box mount, control, maybe a
 * network namespace to join (fd 7), and last a socket for the reply: the outer's pidfd) and
 * makes one forked outer. Forking this small static process costs a fraction of an exec, which is
 * the largest single cost of a run on a VM with expensive page tables. When the supervisor
 * goes away (EOF), we exit, and every outer dies of PDEATHSIG, taking its box along. */
static int serve(void) {
    int sock = 3;
    signal(SIGCHLD, SIG_IGN); /* outers are reaped by the kernel; the supervisor holds pidfds */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) {
        char byte;
        struct iovec iov = {&byte, 1};
        union {
            char buf[CMSG_SPACE((SERVE_FDS + 1) * sizeof(int))];
            struct cmsghdr align;
        } u;
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                             .msg_controllen = sizeof u.buf};
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (!c || c->cmsg_type != SCM_RIGHTS) continue;
        int nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int fds[SERVE_FDS + 1];
        if (nfds < 0 || nfds > SERVE_FDS + 1) continue;
        memcpy(fds, CMSG_DATA(c), (size_t)nfds * sizeof(int));
        int outer_fds = nfds - 1; /* 0-6, or 0-7 with a network namespace */
        if (nfds != SERVE_FDS && nfds != SERVE_FDS + 1) {
            for (int i = 0; i < nfds; i++) close(fds[i]);
            continue;
        }
        /* CLONE_PIDFD: the supervisor gets a handle on the outer that no pid reuse can
         * fool, and knows the whole box is gone when it reports the outer's exit. */
        int pidfd = -1;
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = CLONE_PIDFD;
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        args.exit_signal = SIGCHLD;
        pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0) {
            signal(SIGCHLD, SIG_DFL);
            /* Move the fds to 0-6 (7) through high copies, so no source is overwritten. */
            int high[SERVE_FDS];
            for (int i = 0; i < outer_fds; i++) {
                high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 20);
                if (high[i] < 0) _exit(120);
            }
            for (int i = 0; i < outer_fds; i++) {
                if (dup2(high[i], i) < 0) _exit(120);
            }
            syscall(SYS_close_range, (unsigned)outer_fds, ~0U, 0);
            _exit(outer_main());
        }
        /* On failure the reply carries no fd: the supervisor reports an internal error. */
        if (pid > 0) send_fd(fds[outer_fds], pidfd);
        if (pidfd >= 0) close(pidfd);
        for (int i = 0; i < nfds; i++) close(fds[i]);
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--serve")) return serve();
    return outer_main();
}
