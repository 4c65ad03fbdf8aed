package netwatch

import (
	"context"
	"fmt"
	"os"
	"syscall"
)

// subscribe opens a netlink socket for link, address and route changes.
// The socket is non-blocking and wrapped in an os.File so that closing it
// wakes the reading goroutine; stop closes it and waits for that.
func subscribe(ctx context.Context) (<-chan struct{}, func(), error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, syscall.NETLINK_ROUTE)
	if err != nil {
		return nil, nil, fmt.Errorf("netlink socket: %w", err)
	}
	// RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE |
	// RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE (linux/rtnetlink.h).
	const groups = 0x1 | 0x10 | 0x40 | 0x100 | 0x400
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: groups}); err != nil {
		syscall.Close(fd)
		return nil, nil, fmt.Errorf("netlink bind: %w", err)
	}
	f := os.NewFile(uintptr(fd), "netlink")
	events := make(chan struct{}, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		defer close(events)
		buf := make([]byte, 64*1024)
		for {
			if _, err := f.Read(buf); err != nil {
				return // closed at ctx end, or the socket failed: Watch falls back to polling
			}
			select {
			case events <- struct{}{}:
			default:
			}
		}
	}()
	stop := func() {
		f.Close() // wakes the Read
		<-exited
	}
	return events, stop, nil
}
