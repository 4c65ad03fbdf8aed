//go:build scenario

package scenario

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"testing"

	"github.com/zalando/go-keyring"

	"github.com/toasttray/toasttray/app/creds"
	"github.com/toasttray/toasttray/app/history"
	"github.com/toasttray/toasttray/app/service"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
)

// ------------------------------------------------------------------ S13

func s13Keyring(t *testing.T) {
	e := newEnv(t, "S13 keyring unavailable", envOpts{n: 1, noStart: true})
	user, password := "user0", e.secrets[0]
	dir := t.TempDir()
	setStore := settings.Store{Path: filepath.Join(dir, settings.FileName)}
	set := settings.Default()
	set.SiteURL, set.WSURL, set.Username, set.Channel = e.srv.URL, e.srv.WSURL, user, "c0"
	ks := creds.Store{Service: "org.toasttray.ToastTray.scenario"}

	keyring.MockInitWithError(errors.New("The name org.freedesktop.secrets was not provided by any .service files"))
	defer keyring.MockInit()

	_, err := ks.Load(set.SiteURL, user)
	e.check(errors.Is(err, creds.ErrUnavailable) && !errors.Is(err, creds.ErrNotFound), "Load with no keyring: %v, want ErrUnavailable", err)
	e.check(err != nil && strings.Contains(err.Error(), "keyring"), "Load error does not say keyring: %v", err)
	e.note("load_err", errString(err))
	err = ks.SaveAll(setStore, set, wsclient.Credentials{Username: user, Password: password})
	e.check(errors.Is(err, creds.ErrUnavailable), "SaveAll with no keyring: %v", err)
	_, statErr := os.Stat(setStore.Path)
	e.check(errors.Is(statErr, os.ErrNotExist), "SaveAll wrote the settings although the keyring failed")
	e.note("save_err", errString(err))

	// The app keeps running: the service starts without credentials (what
	// the tray does when the keyring cannot be read), reports why it cannot
	// connect, and connects as soon as usable credentials come.
	statuses := make(chan wsclient.Status, 64)
	msgs := make(chan wsclient.Message, 64)
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := service.New(service.Options{Logger: logger, Version: "scenario",
		OnStatus: func(st wsclient.Status) {
			select {
			case statuses <- st:
			default:
			}
		},
		OnMessage: func(m wsclient.Message) { msgs <- m }})
	defer svc.Stop()
	e.must(svc.Restart(svc.RunFor(set, wsclient.Credentials{Username: user})), "restart without credentials")
	waitStatus := func(want wsclient.State) wsclient.Status {
		for {
			select {
			case st := <-statuses:
				if st.State == want {
					return st
				}
			case <-e.ctx.Done():
				e.must(e.ctx.Err(), "waiting for "+want.String())
			}
		}
	}
	st := waitStatus(wsclient.StateSignedOut)
	e.note("status_without_credentials", st.Err)
	e.check(st.Err != "", "signed-out status without a reason")
	sid, csrf := e.srv.NewSession(user)
	e.secrets = append(e.secrets, sid, csrf)
	e.must(svc.Restart(svc.RunFor(set, wsclient.Credentials{Username: user, SessionID: sid, CSRFToken: csrf})), "restart with a pasted session")
	waitStatus(wsclient.StateConnected)
	e.must(e.srv.WaitConnections(e.ctx, 1), "service connection")
	e.srv.Push("c0", toast(1, ""))
	select {
	case <-msgs:
	case <-e.ctx.Done():
		e.must(e.ctx.Err(), "toast through the service")
	}
	svc.Stop()

	// The keyring comes back: saving works and nothing secret is in the file.
	keyring.MockInit()
	e.must(ks.SaveAll(setStore, set, wsclient.Credentials{Username: user, Password: password}), "SaveAll with the keyring back")
	got, err := ks.Load(set.SiteURL, user)
	e.check(err == nil && got.Password == password, "Load after the keyring came back: %v", err)
	file, _ := os.ReadFile(setStore.Path)
	if l := leaks(string(file), e.secrets); len(l) > 0 {
		e.check(false, "secrets in the settings file: %v", l)
	}
}

// ------------------------------------------------------------------ S14

const childEnv = "TOASTTRAY_SCENARIO_CHILD"

// runChild is the child process of S14: it saves settings or history in a
// loop, printing a line after each save, until it is killed.
func runChild() bool {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return false
	}
	kind, path, _ := strings.Cut(spec, ":")
	out := bufio.NewWriter(os.Stdout)
	switch kind {
	case "settings":
		st := settings.Store{Path: path}
		for i := 0; ; i++ {
			s := settings.Default()
			s.SiteURL, s.WSURL = "https://www.example.com", "wss://ws.example.com/prod"
			s.Username = strings.Repeat(string(rune('a'+i%26)), settingsPad)
			s.Channel = fmt.Sprint("v", i)
			if err := st.Save(s); err != nil {
				fmt.Fprintln(os.Stderr, "save:", err)
				os.Exit(2)
			}
			fmt.Fprintln(out, "saved", i)
			out.Flush()
		}
	case "history":
		h := history.Open(path, history.Options{Debounce: time.Hour, Logger: slog.New(slog.DiscardHandler)})
		for i := 0; ; i++ {
			for j := 0; j < 50; j++ {
				h.Add(history.Entry{Time: time.Now(), Level: wsclient.LevelInfo, Title: fmt.Sprint("v", i),
					Message: strings.Repeat(string(rune('a'+i%26)), 4000)})
			}
			if err := h.Flush(); err != nil {
				fmt.Fprintln(os.Stderr, "flush:", err)
				os.Exit(2)
			}
			fmt.Fprintln(out, "saved", i)
			out.Flush()
		}
	}
	fmt.Fprintln(os.Stderr, "unknown child", spec)
	os.Exit(2)
	return true
}

const settingsPad = 512 << 10 // a big file makes a kill during the write likely

func s14Killed(t *testing.T) {
	rounds := pick(15, 100)
	for _, kind := range []string{"settings", "history"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, "S14 killed while saving "+kind, envOpts{n: 1, noStart: true})
			e.res.Clients = 0
			dir := t.TempDir()
			path := filepath.Join(dir, kind+".json")
			bad, leftovers := 0, 0
			for r := 0; r < rounds; r++ {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), childEnv+"="+kind+":"+path)
				cmd.Stderr = os.Stderr
				stdout, err := cmd.StdoutPipe()
				e.must(err, "pipe")
				e.must(cmd.Start(), "start child")
				sc := bufio.NewScanner(stdout)
				want := 1 + rand.IntN(3)
				var last string
				t0 := time.Now()
				for k := 0; k < want && sc.Scan(); k++ {
					last = sc.Text()
				}
				per := time.Since(t0) / time.Duration(want)
				// Kill at a random point of the next save.
				time.Sleep(time.Duration(rand.Int64N(int64(per) + 1)))
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				var n int
				fmt.Sscanf(last, "saved %d", &n)
				if msg := verifyFile(kind, path, n); msg != "" {
					bad++
					e.check(false, "round %d: %s", r, msg)
				}
			}
			tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
			leftovers = len(tmps)
			e.note("kills", rounds)
			e.note("damaged_files", bad)
			e.note("leftover_temp_files", leftovers)
		})
	}
}

// verifyFile checks that the file after a kill is whole and is the save
// the child announced last, or a later one.
func verifyFile(kind, path string, lastSaved int) string {
	switch kind {
	case "settings":
		s, exists, err := settings.Store{Path: path}.Load()
		if err != nil || !exists {
			return fmt.Sprintf("settings unreadable after a kill: exists=%v err=%v", exists, err)
		}
		var v int
		if _, err := fmt.Sscanf(s.Channel, "v%d", &v); err != nil || v < lastSaved {
			return fmt.Sprintf("settings version %q older than the last completed save v%d", s.Channel, lastSaved)
		}
		if s.Username != strings.Repeat(string(rune('a'+v%26)), settingsPad) {
			return "settings content torn: username does not match its version"
		}
	case "history":
		es, err := history.Open(path, history.Options{Logger: slog.New(slog.DiscardHandler)}).List()
		if err != nil {
			return fmt.Sprintf("history unreadable after a kill: %v", err)
		}
		if len(es) == 0 || len(es) > history.MaxEntries {
			return fmt.Sprintf("history has %d entries", len(es))
		}
		var newest int
		fmt.Sscanf(es[0].Title, "v%d", &newest)
		if newest < lastSaved {
			return fmt.Sprintf("history newest v%d older than the last completed flush v%d", newest, lastSaved)
		}
		for _, x := range es {
			var v int
			fmt.Sscanf(x.Title, "v%d", &v)
			if x.Message != strings.Repeat(string(rune('a'+v%26)), 4000) {
				return "history entry torn"
			}
		}
	}
	return ""
}
