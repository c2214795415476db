//go:build unix

package main

import "syscall"

// privateFiles makes the files and directories the process creates from
// now on readable by its user only (umask 077), whatever mode a library
// asks for: SQLite's journal files and JetStream's blocks included. The
// data directory's existing files are tightened by app.Open.
func privateFiles() { syscall.Umask(0o077) }
