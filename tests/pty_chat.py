#!/usr/bin/env python3
"""Run a command on a new terminal, typing each answer once its prompt has been printed."""
# usage: pty_chat.py SECONDS PROMPT ANSWER [PROMPT ANSWER ...] -- COMMAND [ARG ...]
# Prints what the terminal showed; exits with the command's status, 124 when SECONDS ran out.
import os
import pty
import select
import signal
import sys
import time


def main():
    argv = sys.argv[1:]
    sep = argv.index("--")
    deadline = time.monotonic() + float(argv[0])
    chat = argv[1:sep]
    cmd = argv[sep + 1:]
    pairs = [(chat[i].encode(), chat[i + 1].encode() + b"\n") for i in range(0, len(chat), 2)]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    seen = b""
    out = b""
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
        seen += data
        if pairs and pairs[0][0] in seen:
            seen = seen[seen.index(pairs[0][0]) + len(pairs[0][0]):]
            os.write(fd, pairs.pop(0)[1])
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    if timed_out:
        sys.exit(124)
    sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)


main()
