/* A setuid-root binary of the test's own, in a host directory bound into the box, next to a
 * root-only secret (argv[1]). If the setuid bit worked, this would run as host root and read
 * the secret. It must run with the box's credentials: euid 0 of the box, no capabilities. */
#include "hostile.h"
#include <fcntl.h>

int main(int argc, char **argv) {
    say("uid %d euid %d", getuid(), geteuid());
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "Uid:", 4) || !strncmp(line, "CapEff:", 7)) say("%s", line);
    }
    int sfd = open(argv[1], O_RDONLY);
    if (sfd >= 0) {
        n = read(sfd, buf, sizeof buf - 1);
        say("ESCAPED read the secret: %.*s", (int)(n > 0 ? n : 0), buf);
    } else {
        say("secret: %s", strerror(errno));
    }
    return 0;
}
