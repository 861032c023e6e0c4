package master

// SetOnWait sets the function Refresh calls when it begins to wait for
// another process's computation.
func SetOnWait(c *Cache, f func()) { c.onWait = f }
