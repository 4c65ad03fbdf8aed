//go:build tlsbed

// Package tlsbed runs ToastTray against the real Django package
// (../shared/realpeer) behind real third-party servers: nginx terminating
// TLS with HTTP/2 and HTTP/1.1 offered, certificates from two private test
// CAs, and squid as an HTTP proxy with basic authentication. Run it with
// `make tlsbed` (root: it adds two names to /etc/hosts).
//
// The site's CA is given to ToastTray as its CA file; the gateway's CA
// reaches it only through the system store (SSL_CERT_FILE stands in for
// it), so a pass proves "the CA file adds to the system roots". Go never
// sends loopback names through a proxy, so the bed uses two names that
// /etc/hosts maps to 127.0.0.1.
package tlsbed

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toasttray/toasttray/scripts/testbed/realpeer"
)

const (
	siteName  = "site.toasttray.test"
	wsName    = "ws.toasttray.test"
	proxyUser = "tt-proxy-user"
	proxyPass = "tt-proxy-S3cret"
)

var binary string // the toasttray binary built by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tlsbed-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "toasttray")
	build := exec.Command("go", "build", "-o", binary, "../../..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building toasttray:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bed is one running test bed.
type bed struct {
	dir       string
	peer      *realpeer.Peer
	port      int    // nginx's TLS port
	siteCA    string // PEM file: the CA file setting
	gatewayCA string // PEM file: the stand-in system store
	proxyPort int
	proxyLog  string // squid's access log
	nginxLog  string // nginx's access log
	siteURL   string
	wsURL     string
}

func startBed(t *testing.T) *bed {
	t.Helper()
	realpeer.Require(t)
	for _, tool := range []string{"nginx", "squid", "htpasswd"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (scripts/install-deps tlsbed)", tool)
			}
			t.Skipf("%s is not installed; run scripts/install-deps tlsbed", tool)
		}
	}
	requireNames(t, siteName, wsName)

	// Not t.TempDir: its parent is private to root, and squid's and
	// nginx's workers drop root yet write their logs here.
	dir, err := os.MkdirTemp("", "tlsbed-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	b := &bed{dir: dir, port: realpeer.FreePort(t)}
	b.siteURL = fmt.Sprintf("https://%s:%d", siteName, b.port)
	b.wsURL = fmt.Sprintf("wss://%s:%d/", wsName, b.port)
	b.siteCA, b.gatewayCA = b.makeCerts(t)

	// The gateway calls Django through nginx as the site's name, so the
	// Host Django sees on $connect is contained in the client's Origin.
	b.peer = realpeer.Start(t, realpeer.Options{
		GatewayArgs: []string{"--integration", b.siteURL + "/ws/"},
		Env: []string{
			"REALPEER_ALLOWED_HOSTS=" + fmt.Sprintf("%s:%d,%s", siteName, b.port, siteName),
			"REALPEER_BEHIND_TLS_PROXY=1",
			"SSL_CERT_FILE=" + b.siteCA, // the gateway's Python trusts nginx's site certificate
		},
	})
	b.startNginx(t)
	b.startSquid(t)
	return b
}

// requireNames makes sure the names resolve to 127.0.0.1, adding them to
// /etc/hosts when they do not (CI runs as root on a fresh machine).
func requireNames(t *testing.T, names ...string) {
	t.Helper()
	missing := false
	for _, n := range names {
		if addrs, err := net.LookupHost(n); err != nil || len(addrs) == 0 || addrs[0] != "127.0.0.1" {
			missing = true
		}
	}
	if !missing {
		return
	}
	f, err := os.OpenFile("/etc/hosts", os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = fmt.Fprintf(f, "\n127.0.0.1 %s # ToastTray test bed (scripts/testbed/tlsbed)\n", strings.Join(names, " "))
		f.Close()
	}
	if err != nil {
		msg := fmt.Sprintf("%v must resolve to 127.0.0.1 and /etc/hosts is not writable (%v)", names, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

func (b *bed) makeCerts(t *testing.T) (siteCA, gatewayCA string) {
	t.Helper()
	sca := newCA(t, "ToastTray test site CA")
	gca := newCA(t, "ToastTray test gateway CA")
	write := func(name string, data []byte) string {
		p := filepath.Join(b.dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	scert, skey := sca.issue(t, siteName)
	gcert, gkey := gca.issue(t, wsName)
	write("site.pem", scert)
	write("site.key", skey)
	write("ws.pem", gcert)
	write("ws.key", gkey)
	return write("site-ca.pem", sca.certPEM), write("gateway-ca.pem", gca.certPEM)
}

func (b *bed) startNginx(t *testing.T) {
	t.Helper()
	b.nginxLog = filepath.Join(b.dir, "nginx-access.log")
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers read the temp dir
	}
	pu, _ := strings.CutPrefix(b.peer.SiteURL, "http://")
	gu, _ := strings.CutPrefix(strings.TrimSuffix(b.peer.WSURL, "/"), "ws://")
	conf := fmt.Sprintf(`%[1]s
worker_processes 1;
error_log %[2]s/nginx-error.log info;
pid %[2]s/nginx.pid;
events { worker_connections 256; }
http {
  log_format bed '$server_name $server_protocol "$request" $status';
  access_log %[3]s bed;
  client_body_temp_path %[2]s/body; proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi; uwsgi_temp_path %[2]s/uwsgi; scgi_temp_path %[2]s/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:%[4]d ssl http2;
    server_name %[5]s;
    ssl_certificate %[2]s/site.pem; ssl_certificate_key %[2]s/site.key;
    location / {
      proxy_pass http://%[6]s;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto https;
    }
  }
  server {
    listen 127.0.0.1:%[4]d ssl http2;
    server_name %[7]s;
    ssl_certificate %[2]s/ws.pem; ssl_certificate_key %[2]s/ws.key;
    location / {
      proxy_pass http://%[8]s;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_read_timeout 3600s;
    }
  }
}
`, user, b.dir, b.nginxLog, b.port, siteName, pu, wsName, gu)
	cf := filepath.Join(b.dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, b.dir, "nginx", b.port, "nginx", "-p", b.dir, "-c", cf, "-g", "daemon off;")
}

func (b *bed) startSquid(t *testing.T) {
	t.Helper()
	b.proxyPort = realpeer.FreePort(t)
	b.proxyLog = filepath.Join(b.dir, "squid-access.log")
	passwd := filepath.Join(b.dir, "squid.passwd")
	if out, err := exec.Command("htpasswd", "-b", "-c", "-B", passwd, proxyUser, proxyPass).CombinedOutput(); err != nil {
		t.Fatalf("htpasswd: %v\n%s", err, out)
	}
	os.Chmod(passwd, 0o644)
	conf := fmt.Sprintf(`http_port 127.0.0.1:%[1]d
auth_param basic program /usr/lib/squid/basic_ncsa_auth %[2]s
auth_param basic realm ToastTray test proxy
acl authed proxy_auth REQUIRED
http_access allow authed
http_access deny all
access_log stdio:%[3]s squid
cache_log %[4]s/squid-cache.log
pid_filename %[4]s/squid.pid
coredump_dir %[4]s
cache deny all
cache_mem 8 MB
memory_cache_shared off
shutdown_lifetime 0 seconds
`, b.proxyPort, passwd, b.proxyLog, b.dir)
	cf := filepath.Join(b.dir, "squid.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, b.dir, "squid", b.proxyPort, "squid", "-N", "-f", cf)
}

// startDaemon runs a server in the foreground of a child process, waits
// until it accepts on port, and stops it when the test ends.
func startDaemon(t *testing.T, dir, name string, port int, argv ...string) {
	t.Helper()
	logf, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	var waitErr error
	exited := make(chan struct{}) // closed once the server has exited
	go func() { waitErr = cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			for _, f := range []string{name + ".out", name + "-error.log", "squid-cache.log"} {
				if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil && strings.HasPrefix(f, name) {
					t.Logf("%s:\n%s", f, b)
				}
			}
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(filepath.Join(dir, name+".out"))
			t.Fatalf("%s exited at start: %v\n%s", name, waitErr, b)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not accept on port %d", name, port)
		}
	}
}

// env is the client's environment: the gateway CA as the only extra
// system root, and the proxy when given.
func (b *bed) env(proxy string) []string {
	env := []string{"SSL_CERT_FILE=" + b.gatewayCA, "TOASTTRAY_PASSWORD=" + realpeer.Password,
		"TOASTTRAY_CONFIG_DIR=" + filepath.Join(b.dir, "config")}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY":
			continue
		}
		env = append(env, kv)
	}
	if proxy != "" {
		env = append(env, "HTTPS_PROXY="+proxy)
	}
	return env
}

func (b *bed) proxyURL(pass string) string {
	return fmt.Sprintf("http://%s:%s@127.0.0.1:%d", proxyUser, pass, b.proxyPort)
}

func (b *bed) args(cmd, channel string, caFile bool, extra []string) []string {
	a := []string{cmd, "--site", b.siteURL, "--ws", b.wsURL, "--user", realpeer.User, "--channel", channel}
	if caFile {
		a = append(a, "--ca-file", b.siteCA)
	}
	return append(a, extra...)
}

// check runs `toasttray check` with HTTPS_PROXY=proxy (none if empty)
// and extra flags, and returns its output and error.
func (b *bed) check(t *testing.T, channel, proxy string, caFile bool, extra ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, b.args("check", channel, caFile, extra)...)
	cmd.Env = b.env(proxy)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// listen runs `toasttray listen`, pushes one toast through the real
// package once the gateway holds the connection, and returns the line it
// printed. proxy and extra are as for check.
func (b *bed) listen(t *testing.T, channel, proxy string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, b.args("listen", channel, true, extra)...)
	cmd.Env = b.env(proxy)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			t.Logf("listen's log:\n%s", stderr.String())
		}
	}()
	if err := b.peer.WaitConnections(ctx, 1); err != nil {
		t.Fatalf("listen did not connect: %v", err)
	}
	// The gateway counts the connection as soon as Django accepted it;
	// push until one lands (a push before the upgrade finishes is 410).
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	msg := `{"type":"toast","level":"success","title":"Through nginx","message":"h2 offered, private CAs"}`
	for {
		r, err := b.peer.Push(ctx, channel, msg)
		if err != nil {
			t.Fatal(err)
		}
		if r.Delivered > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("no push reached listen's connection")
		case <-time.After(200 * time.Millisecond):
		}
	}
	select {
	case line := <-lines:
		return line
	case <-ctx.Done():
		t.Fatal("listen printed nothing")
	}
	return ""
}

// TestBed starts one bed (the real peer takes a while) for both groups.
func TestBed(t *testing.T) {
	b := startBed(t)
	t.Run("nginx h2 and private CAs", func(t *testing.T) { nginxTests(t, b) })
	t.Run("squid", func(t *testing.T) { squidTests(t, b) })
}

func nginxTests(t *testing.T, b *bed) {
	t.Run("nginx offers h2", func(t *testing.T) {
		pool := x509.NewCertPool()
		for _, f := range []string{b.siteCA, b.gatewayCA} {
			pem, _ := os.ReadFile(f)
			pool.AppendCertsFromPEM(pem)
		}
		for _, name := range []string{siteName, wsName} {
			c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", b.port), &tls.Config{ServerName: name, RootCAs: pool, NextProtos: []string{"h2", "http/1.1"}})
			if err != nil {
				t.Fatalf("TLS to nginx as %s: %v", name, err)
			}
			if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
				t.Errorf("nginx negotiated %q for %s, want h2: the bed must offer HTTP/2", p, name)
			}
			c.Close()
		}
	})

	t.Run("check passes", func(t *testing.T) {
		out, err := b.check(t, "direct", "", true)
		if err != nil {
			t.Fatalf("check failed: %v\n%s", err, out)
		}
		t.Logf("toasttray check:\n%s", out)
		for _, want := range []string{"ToastTray test site CA", "ToastTray test gateway CA"} {
			if !strings.Contains(out, want) {
				t.Errorf("check's TLS step does not name %q:\n%s", want, out)
			}
		}
	})

	t.Run("without the CA file the site is not trusted", func(t *testing.T) {
		out, err := b.check(t, "noca", "", false)
		if err == nil {
			t.Fatalf("check passed although nothing trusts the site's CA:\n%s", out)
		}
		if !strings.Contains(out, "CA file") {
			t.Errorf("check's failure does not point at the CA file:\n%s", out)
		}
	})

	t.Run("listen receives a toast", func(t *testing.T) {
		line := b.listen(t, "direct", "")
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["title"] != "Through nginx" {
			t.Fatalf("listen printed %q, want the pushed toast", line)
		}
	})

	t.Run("token requests used HTTP/2, the WebSocket HTTP/1.1", func(t *testing.T) {
		log, _ := os.ReadFile(b.nginxLog)
		var tokenH2, wsH1 bool
		for _, l := range strings.Split(string(log), "\n") {
			if strings.HasPrefix(l, siteName+" HTTP/2.0") && strings.Contains(l, "/api/ws-token/") {
				tokenH2 = true
			}
			if strings.HasPrefix(l, wsName+" HTTP/1.1") && strings.Contains(l, " 101") {
				wsH1 = true
			}
		}
		if !tokenH2 || !wsH1 {
			t.Errorf("nginx's access log: token over h2 %v, WebSocket upgrade over HTTP/1.1 %v:\n%s", tokenH2, wsH1, log)
		}
	})
}

func squidTests(t *testing.T, b *bed) {
	t.Run("check goes through the proxy and names it", func(t *testing.T) {
		out, err := b.check(t, "proxied", b.proxyURL(proxyPass), true)
		if err != nil {
			t.Fatalf("check through squid failed: %v\n%s", err, out)
		}
		t.Logf("toasttray check through squid:\n%s", out)
		name := fmt.Sprintf("via proxy 127.0.0.1:%d", b.proxyPort)
		if !strings.Contains(out, name) {
			t.Errorf("check does not say %q:\n%s", name, out)
		}
		if strings.Contains(out, proxyPass) {
			t.Errorf("check printed the proxy password:\n%s", out)
		}
	})

	t.Run("listen receives a toast through the proxy", func(t *testing.T) {
		before := connects(t, b)
		line := b.listen(t, "proxied", b.proxyURL(proxyPass))
		if !strings.Contains(line, "Through nginx") {
			t.Fatalf("listen printed %q", line)
		}
		after := connects(t, b)
		t.Logf("squid's CONNECT tunnels by host: before listen %v, after %v", before, after)
		// squid's log, not the client's word: the token requests and the
		// WebSocket both went through it.
		if after[siteName] <= before[siteName] || after[wsName] <= before[wsName] {
			t.Errorf("squid tunnels before %v, after %v: want new CONNECTs to both %s and %s", before, after, siteName, wsName)
		}
	})

	// The proxy setting, as --proxy, with no variable set: squid's log
	// proves both the token requests and the WebSocket went through it.
	t.Run("--proxy without HTTPS_PROXY: check and listen go through squid", func(t *testing.T) {
		flag := []string{"--proxy", b.proxyURL(proxyPass)}
		before := connects(t, b)
		out, err := b.check(t, "flagproxy", "", true, flag...)
		if err != nil {
			t.Fatalf("check --proxy through squid failed: %v\n%s", err, out)
		}
		name := fmt.Sprintf("via proxy 127.0.0.1:%d (setting)", b.proxyPort)
		if !strings.Contains(out, name) {
			t.Errorf("check does not say %q:\n%s", name, out)
		}
		if strings.Contains(out, proxyPass) {
			t.Errorf("check printed the proxy password:\n%s", out)
		}
		afterCheck := connects(t, b)
		if afterCheck[siteName] <= before[siteName] || afterCheck[wsName] <= before[wsName] {
			t.Errorf("squid tunnels before check %v, after %v: want new CONNECTs to both names", before, afterCheck)
		}
		line := b.listen(t, "flagproxy", "", flag...)
		if !strings.Contains(line, "Through nginx") {
			t.Fatalf("listen printed %q", line)
		}
		after := connects(t, b)
		t.Logf("squid's CONNECT tunnels: before %v, after check %v, after listen %v", before, afterCheck, after)
		if after[siteName] <= afterCheck[siteName] || after[wsName] <= afterCheck[wsName] {
			t.Errorf("squid tunnels after check %v, after listen %v: want new CONNECTs to both names", afterCheck, after)
		}
	})

	t.Run("--proxy direct overrides HTTPS_PROXY", func(t *testing.T) {
		before := connects(t, b)
		out, err := b.check(t, "direct2", b.proxyURL("not-the-password"), true, "--proxy", "direct")
		if err != nil {
			t.Fatalf("check --proxy direct failed: %v\n%s", err, out)
		}
		if strings.Contains(out, "via proxy") {
			t.Errorf("check --proxy direct went through a proxy:\n%s", out)
		}
		if after := connects(t, b); after[siteName] != before[siteName] || after[wsName] != before[wsName] {
			t.Errorf("squid tunnels before %v, after %v: want none new", before, after)
		}
	})

	t.Run("a wrong proxy password fails clearly", func(t *testing.T) {
		out, err := b.check(t, "badproxy", b.proxyURL("not-the-password"), true)
		if err == nil {
			t.Fatalf("check passed with a wrong proxy password:\n%s", out)
		}
		if !strings.Contains(out, fmt.Sprintf("127.0.0.1:%d", b.proxyPort)) || !strings.Contains(out, "407") {
			t.Errorf("check's failure does not name the proxy and its refusal:\n%s", out)
		}
		if strings.Contains(out, "not-the-password") || strings.Contains(out, proxyPass) {
			t.Errorf("check printed a proxy password:\n%s", out)
		}
	})
}

// connects counts squid's successful CONNECT tunnels per host name.
func connects(t *testing.T, b *bed) map[string]int {
	t.Helper()
	n := map[string]int{}
	data, _ := os.ReadFile(b.proxyLog)
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		// squid format: time elapsed client code/status bytes method URL user ...
		if len(f) < 8 || f[5] != "CONNECT" || !strings.HasSuffix(f[3], "/200") {
			continue
		}
		host, _, _ := strings.Cut(f[6], ":")
		n[host]++
	}
	return n
}
