package main

import (
	"syscall"
	"unsafe"
)

// queuedBytes returns how many bytes written on the socket fd the peer has not acknowledged yet
// (SIOCOUTQ: unsent plus unacknowledged).
func queuedBytes(fd uintptr) (int, error) {
	var queued int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&queued))); errno != 0 {
		return 0, errno
	}
	return int(queued), nil
}
