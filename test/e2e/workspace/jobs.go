// Never opened in the editor by the end-to-end suite: its finding must still reach the Problems
// panel through racelens's workspace scan.
package main

import "runtime/debug"

// startJobs prepares the nightly batch workers.
func startJobs() {
	debug.SetGCPercent(-1)
}
