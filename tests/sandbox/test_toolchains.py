"""Real programs still run under the default seccomp policy (issue 9, item 4).

Each language runs inside a box with seccomp="default": compilers compile inside the box
(their output is copied out and run in a second box), interpreters run a small program that
uses threads or the runtime's event loop, because that is where a policy too strict shows
(the JVM's threads, libuv probing io_uring, glibc probing clone3). A toolchain missing on
the host is skipped with the reason; one present but failing is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import Any

import pytest

import sandbox
from sandbox import Result, Verdict

JAVA_ETC = "/etc/java-17-openjdk"
CARGO_HOME = "/root/.cargo"
RUSTUP_HOME = "/root/.rustup"
RUSTC = f"{CARGO_HOME}/bin/rustc"
# Compilers are big: room for them, still far from the host's size.
COMPILE = {"cpu_time": 20, "wall_time": 60, "memory": "1G", "pids": 256, "disk": "256M",
           "file_size": "128M"}
RUN = {"cpu_time": 5, "wall_time": 20, "memory": "256M", "pids": 64}


def need(path: str) -> str:
    """The absolute path of a host tool, or skip: the toolchain is not installed here."""
    found = path if os.path.isabs(path) else shutil.which(path, path="/usr/local/bin:/usr/bin:/bin")
    if not found or not os.access(found, os.X_OK):
        pytest.skip(f"{path} is not installed on this host")
    return found


def box(cmd: list[str], limits: Mapping[str, Any], **kwargs: Any) -> Result:
    result = sandbox.run(cmd, dict(limits), seccomp="default", **kwargs)
    assert result.blocked_syscall is None, f"{cmd[0]} needs {result.blocked_syscall}"
    assert result.verdict is Verdict.OK, (
        f"{cmd[0]}: {result.verdict} {result.message}\nstdout={result.stdout[-2000:]!r}\n"
        f"stderr={result.stderr[-2000:]!r}")
    return result


C_SOURCE = rb"""
#include <pthread.h>
#include <stdio.h>
static void *work(void *arg) { *(long *)arg *= 2; return NULL; }
int main(void) {
    long values[4] = {1, 2, 3, 4};
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, work, &values[i]);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    printf("%ld\n", values[0] + values[1] + values[2] + values[3]);
    return 0;
}
"""

CPP_SOURCE = rb"""
#include <iostream>
#include <numeric>
#include <thread>
#include <vector>
int main() {
    std::vector<long> values(8);
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; i++) threads.emplace_back([&values, i] { values[i] = i * i; });
    for (auto &t : threads) t.join();
    std::cout << std::accumulate(values.begin(), values.end(), 0L) << std::endl;
}
"""


def test_c_compiled_in_the_box_and_run() -> None:
    need("gcc")
    built = box(["gcc", "-O2", "-pthread", "-o", "a.out", "main.c"], COMPILE,
                files={"main.c": C_SOURCE}, copy_out=["a.out"])
    ran = box(["./a.out"], RUN, files={"a.out": built.files["a.out"]}, executables=["a.out"])
    assert ran.stdout == b"20\n"


def test_cpp_compiled_in_the_box_and_run() -> None:
    need("g++")
    built = box(["g++", "-O2", "-pthread", "-o", "a.out", "main.cpp"], COMPILE,
                files={"main.cpp": CPP_SOURCE}, copy_out=["a.out"])
    ran = box(["./a.out"], RUN, files={"a.out": built.files["a.out"]}, executables=["a.out"])
    assert ran.stdout == b"140\n"


def test_python3_with_threads_and_subprocess() -> None:
    python = need("/usr/bin/python3")
    code = ("import concurrent.futures, subprocess, json\n"
            "with concurrent.futures.ThreadPoolExecutor(4) as pool:\n"
            "    squares = list(pool.map(lambda n: n * n, range(10)))\n"
            "echo = subprocess.run(['/bin/echo', 'child'], capture_output=True, text=True)\n"
            "print(json.dumps([sum(squares), echo.stdout.strip()]))\n")
    ran = box([python, "main.py"], RUN, files={"main.py": code.encode()})
    assert ran.stdout == b'[285, "child"]\n'


JAVA_SOURCE = rb"""
import java.util.concurrent.*;
import java.util.stream.*;
public class Main {
    public static void main(String[] args) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        Future<Long> sum = pool.submit(() -> LongStream.rangeClosed(1, 1000).parallel().sum());
        System.out.println(sum.get());
        pool.shutdown();
    }
}
"""


def test_java_compiled_in_the_box_and_run() -> None:
    javac, java = need("javac"), need("java")
    if not os.path.isdir(JAVA_ETC):
        pytest.skip(f"{JAVA_ETC} is not on this host (the JVM reads its config there)")
    built = box([javac, "Main.java"], COMPILE, files={"Main.java": JAVA_SOURCE},
                copy_out=["Main.class"], binds=[JAVA_ETC])
    limits = {**RUN, "memory": "1G", "pids": 256, "cpu_time": 10}
    ran = box([java, "-Xmx256m", "Main"], limits, files={"Main.class": built.files["Main.class"]},
              binds=[JAVA_ETC])
    assert ran.stdout == b"500500\n"


def test_node_event_loop_and_fs() -> None:
    # libuv probes io_uring at startup and for fs calls: the probe must fail softly.
    node = need("/usr/bin/node")
    code = (b"const fs = require('fs');\n"
            b"const { Worker } = require('worker_threads');\n"
            b"fs.promises.writeFile('/tmp/x', 'hello').then(async () => {\n"
            b"  const text = await fs.promises.readFile('/tmp/x', 'utf8');\n"
            b"  const w = new Worker('require(\"worker_threads\").parentPort.postMessage(6*7)',"
            b" { eval: true });\n"
            b"  w.on('message', (n) => setTimeout(() => console.log(text, n), 10));\n"
            b"});\n")
    ran = box([node, "main.js"], {**RUN, "memory": "512M"}, files={"main.js": code})
    assert ran.stdout == b"hello 42\n"


RUST_SOURCE = rb"""
use std::thread;
fn main() {
    let handles: Vec<_> = (1..=4).map(|i| thread::spawn(move || i * 10)).collect();
    let total: i32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    println!("{}", total);
}
"""


def test_rust_compiled_in_the_box_and_run() -> None:
    rustc = need(RUSTC)
    env = {"RUSTUP_HOME": RUSTUP_HOME, "CARGO_HOME": CARGO_HOME,
           "PATH": f"{CARGO_HOME}/bin:/usr/local/bin:/usr/bin:/bin"}
    built = box([rustc, "-O", "-o", "main", "main.rs"], COMPILE, files={"main.rs": RUST_SOURCE},
                copy_out=["main"], binds=[CARGO_HOME, RUSTUP_HOME], env=env)
    ran = box(["./main"], RUN, files={"main": built.files["main"]}, executables=["main"])
    assert ran.stdout == b"100\n"


def test_ruby() -> None:
    ruby = need("/usr/bin/ruby")
    code = b"t = (1..4).map { |i| Thread.new { i * i } }\nputs t.map(&:value).sum\n"
    ran = box([ruby, "main.rb"], RUN, files={"main.rb": code})
    assert ran.stdout == b"30\n"


def test_perl() -> None:
    perl = need("/usr/bin/perl")
    code = b"use strict; my %h = map { $_ => $_ * 2 } 1..5; my $s = 0; $s += $_ for values %h;" \
           b" print \"$s\\n\";\n"
    ran = box([perl, "main.pl"], RUN, files={"main.pl": code})
    assert ran.stdout == b"30\n"


def test_bash() -> None:
    bash = need("/bin/bash")
    code = b"set -e\nsum=0\nfor i in $(seq 1 10); do sum=$((sum + i)); done\n" \
           b"( echo sub ) | cat >/dev/null\necho $sum $(echo nested)\n"
    ran = box([bash, "main.sh"], RUN, files={"main.sh": code})
    assert ran.stdout == b"55 nested\n"
