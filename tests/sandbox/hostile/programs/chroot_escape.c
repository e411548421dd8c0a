/* The classic chroot escape (chroot into a subdir, then walk ".." past the old root) needs
 * chroot(2). Must be SV "chroot". */
#include "hostile.h"
#include <sys/stat.h>

int main(void) {
    mkdir("/tmp/jail", 0755);
    long rc = chroot("/tmp/jail");
    returned("chroot", rc);
    for (int i = 0; i < 64; i++) {
        if (chdir("..") < 0) break;
    }
    return 0;
}
