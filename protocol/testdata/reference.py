# Drives the long-part code of Debian's piuparts (the installed reference)
# for reference_test.go. Usage:
#   reference.py master-read-long-parts N  < wire   > N times: LENGTH "\n" PAYLOAD
#   reference.py slave-send-logs LOGFILE...         > wire
import importlib.machinery
import io
import sys


def load(name, path):
    return importlib.machinery.SourceFileLoader(name, path).load_module()


def main():
    mode = sys.argv[1]
    if mode == "master-read-long-parts":
        backend = load("backend", "/usr/share/piuparts/piuparts-master-backend")
        protocol = backend.Protocol(sys.stdin, sys.stdout)
        for _ in range(int(sys.argv[2])):
            payload = protocol._read_long_part().encode("utf-8", "surrogateescape")
            sys.stdout.buffer.write(b"%d\n" % len(payload) + payload)
    elif mode == "slave-send-logs":
        slave_mod = load("slave", "/usr/share/piuparts/piuparts-slave")
        slave = slave_mod.Slave()
        slave._to_master = sys.stdout
        for path in sys.argv[2:]:
            slave._from_master = io.StringIO("ok\n")
            slave.send_log("sid", "pass", path)
    else:
        sys.exit("unknown mode " + mode)


main()
