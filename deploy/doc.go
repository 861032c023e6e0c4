// Package deploy holds no code: its directory keeps the files that put
// piuparts-server on a system (the example configuration, systemd units,
// cron, logrotate, Apache, nginx and sudoers files, deploy/install and the
// Debian packaging in deploy/debian), and its tests check them as an admin
// would: the .deb built by `make deb` installs, works, is removed and
// purged cleanly on a fresh Debian bookworm.
package deploy
