#!/usr/bin/env python3
"""System calls per check round of the built checks bench (netpulse-agent/benches/checks.rs):
runs it under `strace -ff` with NETPULSE_BENCH_ROUNDS=0 and =N, leaves the python server's
processes out and prints the difference divided by N, by system call.

Usage: python3 netpulse-agent/benches/syscalls_per_round.py target/release/deps/checks-<hash> [N]
"""
import os,re,sys,subprocess,tempfile,collections
def run(binary, rounds):
    d=tempfile.mkdtemp()
    env=dict(os.environ,NETPULSE_BENCH_ROUNDS=str(rounds))
    subprocess.run(["strace","-ff","-o",d+"/t",binary],env=env,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
    files={int(f.split('.')[1]):open(d+"/"+f,errors='replace').read() for f in os.listdir(d)}
    parent={}
    for pid,txt in files.items():
        for m in re.finditer(r'^(clone3?|fork|vfork)\(.*\)\s+=\s+(\d+)',txt,re.M):
            parent[int(m.group(2))]=pid
    py={pid for pid,txt in files.items() if re.search(r'execve\("[^"]*python',txt)}
    def inpy(p):
        while p is not None:
            if p in py: return True
            p=parent.get(p)
        return False
    c=collections.Counter()
    for pid,txt in files.items():
        if inpy(pid): continue
        for m in re.finditer(r'^([a-z_0-9]+)\(',txt,re.M):
            c[m.group(1)]+=1
    return c
b = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
c0=run(b,0); c1=run(b,n)
tot=sum(c1.values())-sum(c0.values())
print("syscalls per round: %.1f"%(tot/n))
for k,v in sorted(((k,(c1[k]-c0[k])/n) for k in c1),key=lambda x:-x[1])[:20]:
    print("  %-16s %.1f"%(k,v))
