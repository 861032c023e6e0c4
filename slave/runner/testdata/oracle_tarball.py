# Test oracle: lets Debian's piuparts-slave, unchanged, check (and create)
# the base tarball of one section, and prints TARBALL.log.
#
#   python3 oracle_tarball.py PIUPARTS.CONF DISTROS.CONF WORKDIR SECTION
#
# Creating a Section checks its tarball (_check_tarball) when max-reserved
# is above 0; the slave runs in WORKDIR/SECTION.
import os
import runpy
import sys

conf, distros, workdir, section = sys.argv[1:5]
g = runpy.run_path("/usr/share/piuparts/piuparts-slave", run_name="piuparts_oracle")
G = g["Section"].__init__.__globals__
G["CONFIG_FILE"] = conf
G["DISTRO_CONFIG_FILE"] = distros
os.chdir(workdir)
sec = G["Section"](section)
os.chdir(sec._slave_directory)
with open(sec._get_tarball() + ".log", "rb") as f:
    sys.stdout.buffer.write(f.read())
