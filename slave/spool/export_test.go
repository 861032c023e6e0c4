package spool

// SetHook makes s call h between the steps of Commit ("synced", "renamed",
// "dirsynced") and of Ship ("sent", "removed"); an error from h stops the
// operation there, as a crash would.
func SetHook(s *Spool, h func(step string) error) { s.hook = h }
