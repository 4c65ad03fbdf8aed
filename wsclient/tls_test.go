package wsclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient/wstest"
)

// connectOnce signs in, fetches a token and opens the WebSocket as the
// client does, then closes it.
func connectOnce(t *testing.T, cfg Config) error {
	t.Helper()
	cfg.UserAgent = "ToastTray/test"
	cfg = cfg.WithDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second) // only a broken test waits that long
	defer cancel()
	sess, err := newSession(cfg, Credentials{Username: "demo", Password: "demo"})
	if err != nil {
		return err
	}
	defer sess.dropIdle()
	tok, err := sess.token(ctx)
	if err != nil {
		return err
	}
	ws, err := dialWS(ctx, cfg, sess, tok)
	if err != nil {
		return err
	}
	return ws.Close()
}

// runChild runs the calling test again in a new process of this test
// binary, with env added, and fails if it does not pass there. For state
// that Go reads once per process: the system roots, the proxy settings.
func runChild(t *testing.T, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("in a child process (%v): %v\n%s", env, err, out)
	}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// TestWSSWithHTTP2Server: the emulator offers h2 like nginx with http2,
// Caddy and Go servers. The token request may use it; the WebSocket
// handshake must not, or every connection fails after a token was spent
// ("websocket: protocol "h2" was given but is not supported").
func TestWSSWithHTTP2Server(t *testing.T) {
	srv := wstest.NewServer(wstest.Options{TLS: true})
	defer srv.Close()
	caFile := writeFile(t, "ca.pem", srv.CertificatePEM())
	if err := connectOnce(t, Config{SiteURL: srv.URL, WSURL: srv.WSURL, CAFile: caFile}); err != nil {
		t.Fatal(err)
	}
	if c := srv.Counters(); c.TokensIssued != 1 || c.Connects != 1 {
		t.Fatalf("tokens %d, connects %d; want 1 and 1", c.TokensIssued, c.Connects)
	}
}

// TestCAFileAddsToSystemRoots: with a CA file set, a server signed by its
// CA and a server signed by a CA only in the system roots are both
// trusted. Go reads the system roots once per process (from SSL_CERT_FILE
// on Linux), so the test runs in a child process that has them set.
func TestCAFileAddsToSystemRoots(t *testing.T) {
	const marker = "WSCLIENT_TEST_SYSTEM_ROOTS"
	if os.Getenv(marker) == "" {
		if runtime.GOOS != "linux" {
			t.Skip("SSL_CERT_FILE sets the system roots on Linux only")
		}
		// httptest's certificate (which wstest serves) as the system's only root.
		ts := httptest.NewTLSServer(http.NotFoundHandler())
		system := writeFile(t, "system.pem", certPEM(ts.Certificate()))
		ts.Close()
		runChild(t, marker+"=1", "SSL_CERT_FILE="+system, "SSL_CERT_DIR="+t.TempDir())
		return
	}

	bySystem := wstest.NewServer(wstest.Options{TLS: true})
	defer bySystem.Close()

	caPEM, leaf := newTestCA(t)
	emu := wstest.NewUnstartedServer(wstest.Options{})
	defer emu.Close()
	byFile := httptest.NewUnstartedServer(emu.Handler())
	byFile.EnableHTTP2 = true
	byFile.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}, NextProtos: []string{"h2", "http/1.1"}}
	byFile.StartTLS()
	defer byFile.Close()

	caFile := writeFile(t, "extra-ca.pem", caPEM)
	for _, s := range []struct{ name, site string }{{"CA file", byFile.URL}, {"system roots", bySystem.URL}} {
		ws := "wss" + strings.TrimPrefix(s.site, "https") + "/" + wstest.DefaultStage
		if err := connectOnce(t, Config{SiteURL: s.site, WSURL: ws, CAFile: caFile}); err != nil {
			t.Errorf("server signed by a CA in the %s: %v", s.name, err)
		}
	}
}

// newTestCA makes a CA and a certificate it signs for 127.0.0.1.
func newTestCA(t *testing.T) (caPEM []byte, leaf tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ToastTray test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM(ca), tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
