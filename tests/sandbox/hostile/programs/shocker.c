/* The "shocker" escape: open_by_handle_at with a guessed handle opens any inode of the
 * filesystem, ignoring the mount namespace (inode 2 is the root of ext4). Must be SV
 * "open_by_handle_at". */
#include "hostile.h"
#include <fcntl.h>
#include <stdlib.h>

int main(void) {
    struct {
        struct file_handle fh;
        unsigned char bytes[8];
    } h;
    memset(&h, 0, sizeof h);
    h.fh.handle_bytes = 8;
    h.fh.handle_type = 1;
    unsigned int ino = 2;
    memcpy(h.fh.f_handle, &ino, sizeof ino);
    int dirfd = open("/usr", O_RDONLY);
    long rc = open_by_handle_at(dirfd, &h.fh, O_RDONLY);
    returned("open_by_handle_at", rc);
    return 0;
}
