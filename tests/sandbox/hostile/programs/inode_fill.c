/* Exhaust inodes rather than bytes: empty files in argv[1] until creation fails. The tmpfs
 * inode cap must stop it (ENOSPC); prints how many it made. */
#include "hostile.h"
#include <fcntl.h>

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/box";
    char path[256];
    int made = 0;
    for (; made < 1000000; made++) {
        snprintf(path, sizeof path, "%s/f%d", dir, made);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0) {
            say("made %d files, then: %s", made, strerror(errno));
            return 0;
        }
        close(fd);
    }
    say("ESCAPED made %d files", made);
    return 0;
}
