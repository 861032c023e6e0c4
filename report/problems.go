package report

import (
	"sort"
	"strings"

	"piuparts-server/internal/piuparts"
	"piuparts-server/report/known"
)

// problemLinks are the known problems that get a page, with the text of
// their link, in the order the section page lists them: piuparts-report's
// linktarget_by_template, kept as it is (the page of an _issue under
// successfully-tested, of an _error under failed-testing). Its quirks
// stay: unknown_inadequate_issue is listed twice, and the file_moved_usr
// entries ("...,tpl") and the boring_*_inadequate_issue ones match no
// shipped file, so those problems get no page.
var problemLinks = []struct{ template, text string }{
	{"initdscript_lsb_header_issue.tpl", "but logfile contains update-rc.d issues"},
	{"command_not_found_issue.tpl", "but logfile contains 'command not found'"},
	{"debsums_mismatch_issue.tpl", "but logfile contains modified conffiles or other shipped files"},
	{"alternatives_after_purge_issue.tpl", "but logfile contains forgotten alternatives"},
	{"owned_files_after_purge_issue.tpl", "but logfile contains owned files existing after purge"},
	{"unowned_files_after_purge_issue.tpl", "but logfile contains unowned files after purge"},
	{"maintainer_script_issue.tpl", "but logfile contains maintainer script failures"},
	{"db_setup_issue.tpl", "but logfile contains failure to setup a database"},
	{"problems_and_no_force_issue.tpl", "but logfile reports that not enough force was used"},
	{"installs_over_symlink_issue.tpl", "but package installs something over existing symlinks"},
	{"broken_symlinks_issue.tpl", "but logfile contains 'broken symlinks'"},
	{"unknown_inadequate_issue.tpl", "but logfile contains unknown inadequate issues"},
	{"boring_obsolete_conffile_file_inadequate_issue.tpl", "...and logfile contains tag from adequate 'obsolete-conffile-file'"},
	{"boring_broken_symlink_file_inadequate_issue.tpl", "...and logfile contains tag from adequate 'broken-symlink-file'"},
	{"bin_or_sbin_binary_requires_usr_lib_library_inadequate_issue.tpl", "but adequate found a binary in /bin or /sbin that requires a /usr/lib library"},
	{"incompatible_licenses_inadequate_issue.tpl", "but adequate found a license incompatibility"},
	{"broken_binfmt_detector_inadequate_issue.tpl", "but adequate did not find the detector registered with update_binfmts"},
	{"broken_binfmt_interpreter_inadequate_issue.tpl", "but adequate did not find the interpreter registered with update_binfmts"},
	{"missing_alternative_inadequate_issue.tpl", "but adequate found a missing alternative"},
	{"missing_copyright_file_inadequate_issue.tpl", "but adequate couldn't find a copyright file"},
	{"missing_pkgconfig-dependency_issue.tpl", "but adequate found a missing pkgconfig dependency"},
	{"program_name_collision_inadequate_issue.tpl", "but adequate found a program name collision"},
	{"py_file_not_bytecompiled_inadequate_issue.tpl", "but adequate found a .py file that is not byte-compiled"},
	{"pyshared_file_not_bytecompiled_inadequate_issue.tpl", "but adequate found a .py file in /usr/share/pyshared that is not byte-compiled"},
	{"ldd_inadequate_issue.tpl", "but adequate failed to run ldd on a binary or library"},
	{"library_not_found_inadequate_issue.tpl", "but adequate couldn't find a required library"},
	{"undefined_symbol_inadequate_issue.tpl", "but adequate found an undefined symbol"},
	{"symbol-size-mismatch_inadequate_issue.tpl", "but adequate found that a symbol has changed size since the package was built"},
	{"missing-symbol-version-information_inadequate_issue.tpl", "but adequate found that a library is missing symbol version information"},
	{"unknown_inadequate_issue.tpl", "but an unknown adequate issue was found"},
	{"inadequate_exit_issue.tpl", "but adequate exited inadequately"},
	{"packages_have_been_kept_back_issue.tpl", "but logfile contains 'packages have been kept back'"},
	{"needs_rebuild_issue.tpl", "but logfile recommends to rebuild some packages"},
	{"module_build_error_issue.tpl", "but logfile contains dkms module build failures"},
	{"obsolete_conffiles_issue.tpl", "but logfile reports obsolete conffiles"},
	{"missing_md5sums_issue.tpl", "but logfile reports missing md5sums"},
	{"unowned_lib_symlink_issue.tpl", "but logfile reports unowned lib symlinks"},
	{"piuparts-depends-dummy_issue.tpl", "but logfile reports piuparts-depends-dummy.deb could not be installed"},
	{"used_exception_issue.tpl", "but package used a piuparts exception"},
	{"test_was_skipped_issue.tpl", "but package test was skipped"},
	{"dependency_error.tpl", "due to unsatisfied dependencies"},
	{"packages_have_been_kept_back_error.tpl", "...and logfile also contains 'packages have been kept back'"},
	{"command_not_found_error.tpl", "due to a 'command not found' error"},
	{"files_in_usr_local_error.tpl", "due to files in /usr/local"},
	{"overwrite_other_packages_files_error.tpl", "due to overwriting other packages files"},
	{"debsums_mismatch_error.tpl", "due to modifying conffiles or other shipped files"},
	{"alternatives_after_purge_error.tpl", "due to forgotten alternatives after purge"},
	{"owned_files_by_many_packages_error.tpl", "due to owned files by many packages"},
	{"owned_files_after_purge_error.tpl", "due to owned files existing after purge"},
	{"unowned_files_after_purge_error.tpl", "due to unowned files after purge"},
	{"modified_files_after_purge_error.tpl", "due to files having been modified after purge"},
	{"disappeared_files_after_purge_error.tpl", "due to files having disappeared after purge"},
	{"diversion_error.tpl", "due to diversions being modified after purge"},
	{"processes_running_error.tpl", "due to leaving processes running behind"},
	{"resource_violation_error.tpl", "due to resource violation"},
	{"conffile_prompt_error.tpl", "due to prompting due to modified conffiles"},
	{"db_setup_error.tpl", "due to failing to setup a database"},
	{"insserv_error.tpl", "due to a problem with insserv"},
	{"problems_and_no_force_error.tpl", "due to not enough force being used"},
	{"trigger_cycle_error.tpl", "due to dpkg encountered trigger problems"},
	{"immediate_configuration_error.tpl", "due to apt could not perform immediate configuration"},
	{"pre_depends_error.tpl", "due to a problem with pre-depends"},
	{"pre_installation_script_error.tpl", "due to pre-installation maintainer script failed"},
	{"post_installation_script_error.tpl", "due to post-installation maintainer script failed"},
	{"pre_removal_script_error.tpl", "due to pre-removal maintainer script failed"},
	{"post_removal_script_error.tpl", "due to post-removal maintainer script failed"},
	{"unknown_purge_error.tpl", "due to purge failed due to an unknown reason"},
	{"cron_error_after_removal_error.tpl", "due to errors from cronjob after removal"},
	{"logrotate_error_after_removal_error.tpl", "due to errors from logrotate after removal"},
	{"installs_over_symlink_error.tpl", "...and package installs something over existing symlinks"},
	{"broken_symlinks_error.tpl", "...and logfile also contains 'broken symlinks'"},
	{"module_build_error_error.tpl", "...and logfile contains dkms module build failures"},
	{"obsolete_conffiles_error.tpl", "...and logfile reports obsolete conffiles"},
	{"missing_md5sums_error.tpl", "...and logfile reports missing md5sums"},
	{"unowned_lib_symlink_error.tpl", "...and logfile reports unowned lib symlinks"},
	{"piuparts-depends-dummy_error.tpl", "...and logfile reports piuparts-depends-dummy.deb could not be installed"},
	{"file_moved_usr_error,tpl", "...and logfile reports a file moved between /{bin|sbin|lib*} and /usr/{bin|sbin|lib*}"},
	{"file_moved_usr_issue,tpl", "but logfile reports a file moved between /{bin|sbin|lib*} and /usr/{bin|sbin|lib*}"},
	{"unclassified_failures.tpl", "due to unclassified failures"},
}

// buildProblems returns the section's known problems that have a page
// and match a log, each with its logs in the reference's order: fail/
// first, then by most recursive reverse dependencies, then by path.
func buildProblems(s *Section, ps []*known.Problem) []*Problem {
	hits := make(map[string][]*Log)
	for _, k := range []piuparts.Kind{piuparts.KindPass, piuparts.KindFail, piuparts.KindBugged, piuparts.KindAffected} {
		for _, l := range s.Logs[k] {
			for _, name := range l.Problems {
				hits[name] = append(hits[name], l)
			}
		}
	}
	rrdeps := func(l *Log) int {
		if p, ok := s.byName[l.Package]; ok {
			s.counts(p)
			return p.RRDeps
		}
		return -1
	}
	var out []*Problem
	seen := make(map[string]bool)
	for _, link := range problemLinks {
		if seen[link.template] {
			continue // listed twice by the reference; one page
		}
		seen[link.template] = true
		conf := strings.TrimSuffix(link.template, ".tpl") + ".conf"
		var kp *known.Problem
		for _, p := range ps {
			if p.Name == conf {
				kp = p
			}
		}
		logs := hits[conf]
		if kp == nil || len(logs) == 0 {
			continue
		}
		logs = append([]*Log(nil), logs...)
		for _, l := range logs {
			rrdeps(l) // the page shows each one's count
		}
		sort.SliceStable(logs, func(i, j int) bool {
			a, b := logs[i], logs[j]
			if fa, fb := a.Kind == piuparts.KindFail, b.Kind == piuparts.KindFail; fa != fb {
				return fa
			}
			if ra, rb := rrdeps(a), rrdeps(b); ra != rb {
				return ra > rb
			}
			return a.Path() < b.Path()
		})
		out = append(out, &Problem{Name: conf, Page: strings.TrimSuffix(conf, ".conf") + ".html",
			Title: link.text, Issue: strings.HasSuffix(conf, "_issue.conf"), Header: kp.Header,
			Helptext: kp.Helptext, Command: kp.Command(), Logs: logs})
	}
	return out
}
