package main

import "syscall"

// queuedBytes returns how many bytes written on the socket fd the peer has not acknowledged yet
// (SO_NWRITE: what the send buffer still holds).
func queuedBytes(fd uintptr) (int, error) {
	return syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_NWRITE)
}
