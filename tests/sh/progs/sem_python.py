# python3-sysv-ipc's Semaphore across processes.
import os, sys, time
import sysv_ipc

s = sysv_ipc.Semaphore(0x5e0200, sysv_ipc.IPC_CREX, 0o600, initial_value=0)
print("value", s.value)
pid = os.fork()
if pid == 0:
    s.acquire()
    os._exit(0)
for i in range(5000):
    if s.waiting_for_nonzero == 1:
        break
    time.sleep(0.001)
else:
    sys.exit("child never blocked")
print("waiting", s.waiting_for_nonzero)
try:
    s.acquire(0)
    print("timeout 0: acquired")
except sysv_ipc.BusyError:
    print("timeout 0: busy")
s.release()
os.waitpid(pid, 0)
print("value", s.value, "last pid is child", s.last_pid == pid)
s.undo = True
s.release()
print("value", s.value)
s.remove()
try:
    sysv_ipc.Semaphore(0x5e0200)
    print("still there")
except sysv_ipc.ExistentialError:
    print("removed")
