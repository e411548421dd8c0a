/* Creates sockets with raw syscall arguments (64-bit, so junk in the upper half reaches the
 * filter) and prints one line per call: "CALL FAMILY TYPE PROTOCOL: RESULT", the arguments
 * as given, RESULT "ok" (then "bound", "listening" or the failing step's errno, for the
 * kinds that can be bound inside a box) or the errno's name.
 * usage: socket_family CALL FAMILY TYPE PROTOCOL [...]   (CALL: socket or socketpair)
 *        socket_family getifaddrs                        (glibc's NETLINK_ROUTE user) */
#include "hostile.h"
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>

static const char *name(int err) {
    static char other[32];
    switch (err) {
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOSYS: return "ENOSYS";
    }
    snprintf(other, sizeof other, "errno %d", err);
    return other;
}

/* What an allowed socket is for: bound to the wildcard address (lo is down in a box). */
static const char *use(int fd, int family, int type) {
    int rc = 0;
    if (family == AF_INET) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    } else if (family == AF_INET6) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6};
        rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    } else if (family == AF_NETLINK) {
        struct sockaddr_nl a = {.nl_family = AF_NETLINK};
        rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        return "ok";
    }
    if (rc < 0) return name(errno);
    if ((family == AF_INET || family == AF_INET6) && (type & 0xf) == SOCK_STREAM)
        return listen(fd, 1) < 0 ? name(errno) : "ok listening";
    return "ok bound";
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "getifaddrs")) {
        struct ifaddrs *list;
        if (getifaddrs(&list) < 0) {
            say("getifaddrs: %s", name(errno));
            return 0;
        }
        int lo = 0;
        for (struct ifaddrs *i = list; i; i = i->ifa_next) lo |= !strcmp(i->ifa_name, "lo");
        say("getifaddrs: %s", lo ? "ok lo" : "ok without lo");
        freeifaddrs(list);
        return 0;
    }
    for (int i = 1; i + 3 < argc; i += 4) {
        unsigned long family = strtoul(argv[i + 1], NULL, 0);
        unsigned long type = strtoul(argv[i + 2], NULL, 0);
        unsigned long protocol = strtoul(argv[i + 3], NULL, 0);
        const char *result;
        if (!strcmp(argv[i], "socketpair")) {
            int fds[2];
            long rc = syscall(SYS_socketpair, family, type, protocol, fds);
            result = rc < 0 ? name(errno) : "ok";
            if (rc == 0 && write(fds[0], "x", 1) == 1) {
                char c = 0;
                result = read(fds[1], &c, 1) == 1 && c == 'x' ? "ok connected" : "ok broken";
            }
        } else {
            long fd = syscall(SYS_socket, family, type, protocol);
            result = fd < 0 ? name(errno) : use((int)fd, (int)family, (int)type);
        }
        say("%s %s %s %s: %s", argv[i], argv[i + 1], argv[i + 2], argv[i + 3], result);
    }
    say("done");
    return 0;
}
