/* open_tree_attr (Linux 6.15, syscall 467 on x86_64) clones a mount tree with new attributes:
 * part of the mount API, and newer than libseccomp 2.5's syscall table, so a name-only
 * policy silently leaves it allowed. Must be SV "open_tree_attr". */
#include "hostile.h"
#include <fcntl.h>
#include <sys/syscall.h>

int main(void) {
    long rc = syscall(467, AT_FDCWD, "/usr", 1 /* OPEN_TREE_CLONE */, NULL, 0);
    returned("open_tree_attr", rc);
    return 0;
}
