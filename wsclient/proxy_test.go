package wsclient

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// connectProxy is a minimal HTTP CONNECT proxy that wants basic auth
// user:secret. It reports the host of each tunnel it opened; with to set,
// every tunnel leads there (a name this machine cannot resolve works).
func connectProxy(t *testing.T, to ...string) (addr string, tunnels chan string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	tunnels = make(chan string, 100)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("user:secret"))
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				if req.Method != http.MethodConnect || req.Header.Get("Proxy-Authorization") != want {
					io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
					return
				}
				target := req.Host
				if len(to) > 0 {
					target = to[0]
				}
				up, err := net.Dial("tcp", target)
				if err != nil {
					io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
					return
				}
				defer up.Close()
				tunnels <- req.Host
				io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	return l.Addr().String(), tunnels
}

// echoServer answers each connection with one line it read.
func echoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "echo "+line)
			}()
		}
	}()
	return l.Addr().String()
}

func TestDialTCPThroughProxy(t *testing.T) {
	target := echoServer(t)
	paddr, tunnels := connectProxy(t)
	p, _ := url.Parse("http://user:secret@" + paddr)
	nc, err := dialTCP(context.Background(), &net.Dialer{}, p, nil, target)
	if err != nil {
		t.Fatalf("dialTCP through the proxy: %v", err)
	}
	defer nc.Close()
	io.WriteString(nc, "hello\n")
	got, _ := bufio.NewReader(nc).ReadString('\n')
	if got != "echo hello\n" {
		t.Fatalf("through the tunnel got %q", got)
	}
	if h := <-tunnels; h != target {
		t.Fatalf("the proxy opened a tunnel to %q, want %q", h, target)
	}
}

func TestDialTCPProxyRefusalNamesProxyNotPassword(t *testing.T) {
	target := echoServer(t)
	paddr, tunnels := connectProxy(t)
	p, _ := url.Parse("http://user:wrong-pass@" + paddr)
	_, err := dialTCP(context.Background(), &net.Dialer{}, p, nil, target)
	if err == nil {
		t.Fatal("dialTCP with a wrong proxy password succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, paddr) || !strings.Contains(msg, "407") {
		t.Errorf("error %q should name the proxy %s and its answer", msg, paddr)
	}
	if strings.Contains(msg, "wrong-pass") || strings.Contains(msg, "user:") {
		t.Errorf("error %q carries the proxy credentials", msg)
	}
	if len(tunnels) != 0 {
		t.Error("the proxy opened a tunnel without authentication")
	}
}

func TestDialTCPDirect(t *testing.T) {
	target := echoServer(t)
	nc, err := dialTCP(context.Background(), &net.Dialer{}, nil, nil, target)
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
}
