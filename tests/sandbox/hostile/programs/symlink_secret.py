"""Plant symlinks for the host's copy-out (the Judge0 2024 CVEs): /box/out points at a host
secret by absolute path, /box/rel by a long "../" chain, and /box/d at the secret's
directory, so that copy-out of "d/<name>" crosses a symlinked directory. A host that resolves
any of these by name reads its own file. Copy-out must refuse all three."""

import os
import sys

secret = sys.argv[1]
os.symlink(secret, "/box/out")
os.symlink("../" * 16 + secret.lstrip("/"), "/box/rel")
os.symlink(os.path.dirname(secret), "/box/d")
os.symlink("/proc/1/root" + secret, "/box/viaproc")
print("planted")
