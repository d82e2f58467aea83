//go:build unix

package safefile

import "syscall"

// nonBlock makes opening a FIFO that has no writer return at once instead
// of waiting, uninterruptibly, for one.
const nonBlock = syscall.O_NONBLOCK
