#!/usr/bin/env python3
"""Writes a 5 M-line sshd auth.log flood spanning three days (70% of the lines
from a random public address) for the memory figures in docs/speed.md:
`python3 scripts/sshd_flood.py OUT.log [LINES]` (LINES: 5000000 unless given)."""
import random, sys
r = random.Random(7)
months = "Dec"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000_000
span = 3 * 86400
users = ["root","admin","oracle","test","ubuntu","git","postgres","alice","bob","carol"]
hosts = ["web%02d" % i for i in range(40)]
out = open(sys.argv[1], "w", buffering=1 << 20)
buf = []
for i in range(N):
    t = i * span // N
    d = 1 + t // 86400; s = t % 86400
    ts = "Dec %2d %02d:%02d:%02d" % (d, s // 3600, (s // 60) % 60, s % 60)
    h = hosts[r.randrange(40)]
    pid = 1000 + r.randrange(60000)
    addr = "%d.%d.%d.%d" % (r.randrange(1, 223), r.randrange(256), r.randrange(256), r.randrange(1, 255))
    port = 1024 + r.randrange(60000)
    u = users[r.randrange(10)]
    k = r.randrange(10)
    if k < 5:
        m = "Failed password for invalid user %s from %s port %d ssh2" % (u, addr, port)
    elif k < 7:
        m = "Failed password for %s from %s port %d ssh2" % (u, addr, port)
    elif k < 8:
        m = "Accepted publickey for %s from 10.0.%d.%d port %d ssh2: ED25519 SHA256:Jd8m3tUq2hS5xwVqkzKLm1r4s0l2bYH7u0Wc9QpZk1E" % (u, r.randrange(4), r.randrange(1, 255), port)
    elif k < 9:
        m = "Invalid user %s from %s port %d" % (u, addr, port)
    else:
        m = "Connection closed by invalid user %s %s port %d [preauth]" % (u, addr, port)
    buf.append("%s %s sshd[%d]: %s\n" % (ts, h, pid, m))
    if len(buf) >= 100000:
        out.write("".join(buf)); buf = []
out.write("".join(buf))
