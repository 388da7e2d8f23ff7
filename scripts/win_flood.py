#!/usr/bin/env python3
"""Writes a Windows failure flood (Winlogbeat 8 JSON lines) spanning three days
for the memory figures in docs/speed.md, the lines of tests/common/win_flood.rs:
failed network logons (4625, half) and failed Kerberos pre-authentications
(4771, a third) from a random public address each, the rest logons accepted
from inside. `python3 scripts/win_flood.py OUT.jsonl [LINES]` (LINES: 2000000
unless given)."""
import sys
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
out = open(sys.argv[1], "w")
M=(1<<64)-1
x=0x9E3779B97F4A7C15
users=["administrator","admin","backup","alice","bob","carol"]
def stamp(t):
    d,s=1+t//86400,t%86400
    return "2024-05-%02dT%02d:%02d:%02d.000Z"%(d,s//3600,(s//60)%60,s%60)
def ev(t,i,h,data):
    return '{"@timestamp":"%s","event":{"code":"%d","kind":"event","provider":"Microsoft-Windows-Security-Auditing"},"host":{"name":"%s.corp.local"},"winlog":{"channel":"Security","computer_name":"%s.corp.local","event_id":"%d","provider_name":"Microsoft-Windows-Security-Auditing","event_data":{%s}}}\n'%(stamp(t),i,h,h,i,data)
def logon(t,ok,h,u,a):
    d='"TargetUserName":"%s","TargetDomainName":"CORP","LogonType":"3","IpAddress":"%s","IpPort":"49800","WorkstationName":"-","AuthenticationPackageName":"NTLM","LogonProcessName":"NtLmSsp "'%(u,a)
    if not ok: d+=',"Status":"0xc000006d","SubStatus":"0xc000006a"'
    return ev(t,4624 if ok else 4625,h,d)
def pre(t,u,a):
    return ev(t,4771,"dc01",'"TargetUserName":"%s","ServiceName":"krbtgt/CORP","Status":"0x18","PreAuthType":"2","IpAddress":"::ffff:%s","IpPort":"51000"'%(u,a))
buf=[]
for i in range(n):
    x^=(x<<13)&M; x^=x>>7; x^=(x<<17)&M
    r=x; t=i*3*86400//n
    u=users[r%6]; h="fs%02d"%((r>>8)%12)
    a="%d.%d.%d.%d"%(1+(r>>16)%222,(r>>24)%256,(r>>32)%256,1+(r>>40)%254)
    k=(r>>56)%6
    if k==0: buf.append(logon(t,True,h,u,"10.0.%d.%d"%((r>>20)%3,1+(r>>28)%20)))
    elif k<3: buf.append(pre(t,u,a))
    else: buf.append(logon(t,False,h,u,a))
    if len(buf)>=100000: out.write(''.join(buf)); buf=[]
out.write(''.join(buf))
