"""Run the host's setuid-root binaries (passwd, su, chfn, newgrp). Host root is not mapped in
the box's user namespace, /usr is mounted nosuid and no_new_privs is set: the setuid bit must
do nothing. While passwd waits for input, its credentials are read from /proc: they must
still be the box's (uid 0 of the box, shown as 0; host root would show as 65534) with no
effective capabilities."""

import subprocess
import time

proc = subprocess.Popen(["/usr/bin/passwd"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)
time.sleep(0.2)
try:
    with open(f"/proc/{proc.pid}/status") as handle:
        for line in handle:
            if line.startswith(("Uid:", "Gid:", "CapEff:", "CapPrm:", "NoNewPrivs:")):
                print("passwd", " ".join(line.split()))
except OSError as exc:
    print("passwd status:", exc.strerror)
proc.kill()
proc.communicate()
for cmd in (["/usr/bin/su", "-c", "id"], ["/usr/bin/chfn", "-f", "x"], ["/usr/bin/newgrp"]):
    result = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, check=False)
    print(cmd[0], result.returncode)
