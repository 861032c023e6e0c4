# Test oracle: runs Debian's piuparts-slave, unchanged, to test one package
# of one section, and prints the result directory and the log it wrote.
#
#   python3 oracle.py PIUPARTS.CONF DISTROS.CONF WORKDIR SECTION NAME VERSION
#
# The slave is imported with runpy and its configuration constants pointed at
# the given files. The Packages files are loaded as the slave's _process does
# (load_packages_urls restricted to NAME); the slave runs in WORKDIR/SECTION.
import os
import runpy
import sys

conf, distros, workdir, section, name, version = sys.argv[1:7]
g = runpy.run_path("/usr/share/piuparts/piuparts-slave", run_name="piuparts_oracle")
G = g["Section"].__init__.__globals__
G["CONFIG_FILE"] = conf
G["DISTRO_CONFIG_FILE"] = distros
os.chdir(workdir)
sec = G["Section"](section)
cfg = sec._config
packages = {}
for distro in [cfg.get_distro()] + cfg.get_distros():
    if distro not in packages:
        pf = G["piupartslib"].packagesdb.PackagesFile()
        pf.load_packages_urls(
            sec._distro_config.get_packages_urls(distro, cfg.get_area(), cfg.get_arch()),
            set([name]))
        packages[distro] = pf
os.chdir(sec._slave_directory)
sec._test_package(name, version, packages)
for sub in ("pass", "fail", "untestable"):
    path = os.path.join(sub, "%s_%s.log" % (name, version))
    if os.path.exists(path):
        sys.stdout.buffer.write(sub.encode() + b"\n")
        with open(path, "rb") as f:
            sys.stdout.buffer.write(f.read())
