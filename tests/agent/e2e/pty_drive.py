#!/usr/bin/env python3
"""pty_drive.py - runs a command on a new pseudo-terminal, its controlling
terminal, and plays a scripted dialogue with it (tests/agent/e2e/tty).

usage: pty_drive.py [-t SECONDS] [--env FILE] STEP... -- COMMAND [ARG...]

Steps, in order:
  -e TEXT    wait until TEXT appears in the output (after the previous match)
  -s LINE    type LINE and Enter
  -d         type Ctrl-D (end of file at the start of a line)
  -h         hang up: close the terminal's master side
  -x on|off  the terminal's echo flag must be on / off now
  -w         wait for the command to exit
After the last step the command's exit is awaited (if not yet). --env FILE
adds its NAME=VALUE lines to the command's environment. Every wait lasts
at most -t SECONDS (10).

Prints the transcript (all the terminal's output, CR LF as LF) on standard
output and exits with the command's status, 128 + N if signal N ended it.
A step that fails (timeout, text not seen before the command exited, echo
not as expected) prints why and what was seen on standard error, kills the
command and exits 125.
"""

import fcntl
import os
import select
import signal
import sys
import termios
import time

FAILED = 125


class Drive:
    def __init__(self, argv, env, timeout):
        self.timeout = timeout
        self.master, self.slave = os.openpty()
        self.seen = b""
        self.cursor = 0
        self.status = None
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.close(self.master)
                os.setsid()
                fcntl.ioctl(self.slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(self.slave, fd)
                if self.slave > 2:
                    os.close(self.slave)
                os.execvpe(argv[0], argv, env)
            except OSError as e:
                os.write(2, f"pty_drive: {argv[0]}: {e}\n".encode())
            os._exit(127)
        # The slave stays open here too: the echo flag can be read after the
        # command has gone, and its exit is seen by waitpid, not by EIO.

    def read_some(self, wait):
        """Reads what the terminal has within `wait` seconds; whether it had any."""
        if self.master < 0:
            time.sleep(wait)   # nothing to read: wait all the same, never spin
            return False
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return False
        try:
            data = os.read(self.master, 4096)
        except OSError:
            time.sleep(wait)   # EIO: select keeps reporting it ready
            return False
        self.seen += data
        return bool(data)

    def reap(self):
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
        return self.status is not None

    def fail(self, why):
        if not self.reap():
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        self.show()
        sys.stderr.write(f"pty_drive: FAIL: {why}\n")
        sys.exit(FAILED)

    def expect(self, text):
        want = text.encode()
        deadline = time.monotonic() + self.timeout
        while True:
            at = self.seen.find(want, self.cursor)
            if at >= 0:
                self.cursor = at + len(want)
                return
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(f"timed out after {self.timeout} s waiting for {text!r}")
            if self.reap():
                while self.read_some(0):
                    pass
                if self.seen.find(want, self.cursor) < 0:
                    self.fail(f"the command exited before {text!r} appeared")
                continue
            self.read_some(min(left, 0.1))

    def type(self, data):
        if self.master < 0:
            self.fail("typing after the hang-up")
        os.write(self.master, data)

    def hang_up(self):
        os.close(self.master)
        self.master = -1

    def echo(self, want):
        on = bool(termios.tcgetattr(self.slave)[3] & termios.ECHO)
        if on != (want == "on"):
            self.fail(f"echo is {'on' if on else 'off'}, expected {want}")

    def wait(self):
        deadline = time.monotonic() + self.timeout
        while not self.reap():
            if time.monotonic() >= deadline:
                self.fail(f"the command did not exit within {self.timeout} s")
            if not self.read_some(0.1):
                time.sleep(0.05)
        while self.read_some(0):
            pass

    def show(self):
        sys.stdout.buffer.write(self.seen.replace(b"\r\n", b"\n"))
        sys.stdout.flush()


def usage():
    sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
    sys.exit(2)


def main(args):
    timeout, env, steps = 10.0, dict(os.environ), []
    while args and args[0] != "--":
        opt = args.pop(0)
        if opt in ("-d", "-h", "-w"):
            steps.append((opt, None))
            continue
        if not args:
            usage()
        val = args.pop(0)
        if opt == "-t":
            timeout = float(val)
        elif opt == "--env":
            with open(val, encoding="utf-8") as f:
                env.update(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        elif opt in ("-e", "-s") or (opt == "-x" and val in ("on", "off")):
            steps.append((opt, val))
        else:
            usage()
    if len(args) < 2:
        usage()
    d = Drive(args[1:], env, timeout)
    for opt, val in steps:
        if opt == "-e":
            d.expect(val)
        elif opt == "-s":
            d.type(val.encode() + b"\n")
        elif opt == "-d":
            d.type(b"\x04")
        elif opt == "-h":
            d.hang_up()
        elif opt == "-x":
            d.echo(val)
        else:
            d.wait()
    d.wait()
    d.show()
    status = d.status
    return 128 - status if status < 0 else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
