/* Mounting over the box's view (or remounting / read-write). Must be SV "mount". */
#include "hostile.h"
#include <sys/mount.h>

int main(void) {
    long rc = mount("none", "/usr", "tmpfs", 0, "size=1m");
    returned("mount", rc);
    return 0;
}
