// Command pause is the pod sandbox ("pause") program of the lab's real
// nodes: the first process of every pod, which holds the pod's namespaces
// while its containers come and go. It blocks until SIGTERM or SIGINT and
// then exits 0. As PID 1 of the pod's PID namespace it is the parent of
// orphaned processes, so it reaps every child that exits; otherwise they
// would stay zombies.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	reap() // children that exited before Notify
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap waits for every child that has exited, without blocking. SIGCHLDs
// coalesce, so one signal may stand for several children.
func reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
	}
}
