// Package jobs holds the master's maintenance jobs: what Debian's
// piuparts-master runs from cron (/usr/share/piuparts/master/), on our
// config and through the store, so that the log index stays true.
//
// Each job behaves as its Debian script does, says nothing when there was
// nothing to do, and publishes what it did where the script does
// (output-directory/logs/YYYY/MM/DD/SCRIPT.txt, write_log.sh's
// publish_logs), or returns it for standard output when the script
// prints it:
//
//	Reschedule            reschedule_oldest_logs
//	RescheduleUntestable  report_untestable_packages
//	ArchiveLogs           archive_old_logs
package jobs
