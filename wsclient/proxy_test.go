package wsclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
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
	return serveConnect(t, l, to...)
}

// serveConnect is connectProxy on l (a TLS listener for an https proxy).
func serveConnect(t *testing.T, l net.Listener, to ...string) (addr string, tunnels chan string) {
	t.Helper()
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

// An https:// proxy: TLS to the proxy (verified with the client's roots,
// CA file included), then CONNECT inside it.
func TestDialTCPThroughHTTPSProxy(t *testing.T) {
	target := echoServer(t)
	caPEM, leaf := newTestCA(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	paddr, tunnels := serveConnect(t, tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{leaf}}))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	p, _ := url.Parse("https://user:secret@" + paddr)
	nc, err := dialTCP(context.Background(), &net.Dialer{}, p, &tls.Config{RootCAs: roots}, target)
	if err != nil {
		t.Fatalf("dialTCP through the https proxy: %v", err)
	}
	defer nc.Close()
	io.WriteString(nc, "hello\n")
	if got, _ := bufio.NewReader(nc).ReadString('\n'); got != "echo hello\n" {
		t.Fatalf("through the tunnel got %q", got)
	}
	if h := <-tunnels; h != target {
		t.Fatalf("the proxy opened a tunnel to %q, want %q", h, target)
	}
	// Without the proxy's CA the TLS step fails, naming only host:port.
	_, err = dialTCP(context.Background(), &net.Dialer{}, p, &tls.Config{RootCAs: x509.NewCertPool()}, target)
	if err == nil || !strings.Contains(err.Error(), "TLS with the proxy "+paddr) || strings.Contains(err.Error(), "secret") {
		t.Errorf("untrusted https proxy: %v", err)
	}
}

// socks5Proxy is a minimal SOCKS5 proxy (no authentication) that leads
// every connection to target and reports the address asked for.
func socks5Proxy(t *testing.T, target string) (addr string, asked chan string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	asked = make(chan string, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				var hello [2]byte
				if _, err := io.ReadFull(br, hello[:]); err != nil || hello[0] != 5 {
					return
				}
				if _, err := io.ReadFull(br, make([]byte, hello[1])); err != nil {
					return
				}
				c.Write([]byte{5, 0}) // no authentication
				var req [5]byte       // ver, cmd, rsv, atyp, first byte
				if _, err := io.ReadFull(br, req[:]); err != nil || req[1] != 1 || req[3] != 3 {
					return // CONNECT by name only
				}
				rest := make([]byte, int(req[4])+2)
				if _, err := io.ReadFull(br, rest); err != nil {
					return
				}
				host := string(rest[:req[4]])
				port := int(rest[req[4]])<<8 | int(rest[req[4]+1])
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				asked <- net.JoinHostPort(host, strconv.Itoa(port))
				c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
				go io.Copy(up, br)
				io.Copy(c, up)
			}()
		}
	}()
	return l.Addr().String(), asked
}

func TestDialTCPThroughSOCKS5(t *testing.T) {
	target := echoServer(t)
	paddr, asked := socks5Proxy(t, target)
	p, _ := url.Parse("socks5://" + paddr)
	nc, err := dialTCP(context.Background(), &net.Dialer{}, p, nil, "ws.example.com:443")
	if err != nil {
		t.Fatalf("dialTCP through SOCKS5: %v", err)
	}
	defer nc.Close()
	io.WriteString(nc, "hello\n")
	if got, _ := bufio.NewReader(nc).ReadString('\n'); got != "echo hello\n" {
		t.Fatalf("through SOCKS5 got %q", got)
	}
	if a := <-asked; a != "ws.example.com:443" {
		t.Errorf("the SOCKS proxy was asked for %q, want the name, resolved by the proxy", a)
	}
}
