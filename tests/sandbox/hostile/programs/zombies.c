/* Fifty zombies: children that exit and are never waited for, holding pids. The program
 * exits with them unreaped; the box's init must reap them (OK, nothing left over). */
#include "hostile.h"
#include <dirent.h>
#include <stdlib.h>

static int count_zombies(void) {
    int zombies = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(buf, sizeof buf, f)) {
            char *p = strrchr(buf, ')');
            if (p && p[2] == 'Z') zombies++;
        }
        fclose(f);
    }
    if (d) closedir(d);
    return zombies;
}

int main(void) {
    for (int i = 0; i < 50; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid < 0) {
            say("fork %d failed: %s", i, strerror(errno));
            return 1;
        }
    }
    /* Wait (up to 5 s on a busy host) until every child has exited and is a zombie. */
    int zombies = 0;
    for (int round = 0; round < 500 && zombies < 50; round++) {
        usleep(10 * 1000);
        zombies = count_zombies();
    }
    say("zombies %d", zombies);
    return 0;
}
