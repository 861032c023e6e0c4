# Drives the long-part code of Debian's piuparts (the installed reference)
# for reference_test.go. Usage:
#   reference.py master-read-long-part   < wire    > payload
#   reference.py slave-send-log LOGFILE            > wire
import importlib.machinery
import io
import sys


def load(name, path):
    return importlib.machinery.SourceFileLoader(name, path).load_module()


def main():
    mode = sys.argv[1]
    if mode == "master-read-long-part":
        backend = load("backend", "/usr/share/piuparts/piuparts-master-backend")
        sys.stdout.write(backend.Protocol(sys.stdin, sys.stdout)._read_long_part())
    elif mode == "slave-send-log":
        slave_mod = load("slave", "/usr/share/piuparts/piuparts-slave")
        slave = slave_mod.Slave()
        slave._to_master = sys.stdout
        slave._from_master = io.StringIO("ok\n")
        slave.send_log("sid", "pass", sys.argv[2])
    else:
        sys.exit("unknown mode " + mode)


main()
