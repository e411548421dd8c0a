"""A root-only host file that is visible in the box (argv[1], mode 0600, host root's, in a
directory bound read-only into the box). The box's "root" is root only of its own user
namespace: reading, opening for write, or chmod must all fail."""

import os
import sys

path = sys.argv[1]
try:
    with open(path, "rb") as handle:
        print("ESCAPED read", handle.read())
except OSError as exc:
    print("read:", exc.strerror)
try:
    os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
    print("ESCAPED opened for writing")
except OSError as exc:
    print("write:", exc.strerror)
for attempt, action in (("chmod", lambda: os.chmod(path, 0o644)),
                        ("chown", lambda: os.chown(path, 0, 0))):
    try:
        action()
        print("ESCAPED", attempt)
    except OSError as exc:
        print(f"{attempt}:", exc.strerror)
print("st_uid", os.stat(path).st_uid)
