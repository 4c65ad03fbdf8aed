// Command testdesk runs and inspects ToastTray's test desktop services on
// the D-Bus session bus (see package desk).
//
//	testdesk serve [-notifications FILE] [-watcher FILE] [-ready FILE]
//	    own org.freedesktop.Notifications and org.kde.StatusNotifierWatcher
//	    until SIGINT/SIGTERM; -ready is written once both names are owned
//	testdesk items                     list registered tray items
//	testdesk wait-item [-timeout D]    wait until a tray item registers, print it
//	testdesk menu [-item I] [-json]    print an item's menu
//	testdesk click [-item I] LABEL|#ID click a menu entry by label or by id
//	testdesk icon [-item I] FILE.png   save an item's icon (largest IconPixmap)
//	testdesk notifications             print recorded notifications as JSON lines
//
// -item defaults to the only registered item.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/toasttray/toasttray/scripts/testdesk/desk"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "testdesk: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: testdesk serve|items|wait-item|menu|click|icon|notifications [flags]")
	}
	cmd, args := args[0], args[1:]
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("testdesk "+cmd, flag.ContinueOnError)
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	switch cmd {
	case "serve":
		notifications := fs.String("notifications", "", "append notifications to this JSON lines file")
		watcher := fs.String("watcher", "", "append tray item registrations to this JSON lines file")
		ready := fs.String("ready", "", "write this file once the services own their names")
		if err := fs.Parse(args); err != nil {
			return err
		}
		return serve(ctx, *notifications, *watcher, *ready)
	case "items", "wait-item", "menu", "click", "icon", "notifications":
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
	item := fs.String("item", "", "tray item as service/path (default: the only one)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return fmt.Errorf("connect to the session bus: %w", err)
	}
	defer conn.Close()

	switch cmd {
	case "items":
		items, err := desk.RegisteredItems(ctx, conn)
		if err != nil {
			return err
		}
		for _, it := range items {
			fmt.Fprintln(stdout, it)
		}
		return nil
	case "wait-item":
		it, err := desk.WaitItem(ctx, conn, nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, it)
		return nil
	case "notifications":
		ns, err := desk.Notifications(ctx, conn)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		for _, n := range ns {
			if err := enc.Encode(n); err != nil {
				return fmt.Errorf("print: %w", err)
			}
		}
		return nil
	}

	it, err := pickItem(ctx, conn, *item)
	if err != nil {
		return err
	}
	switch cmd {
	case "menu":
		m, err := desk.ReadMenu(ctx, conn, it)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(m)
		}
		printMenu(stdout, m.Children, "")
		return nil
	case "icon":
		if fs.NArg() != 1 {
			return errors.New("usage: testdesk icon [-item I] FILE.png")
		}
		info, err := desk.ReadItem(ctx, conn, it)
		if err != nil {
			return err
		}
		if info.Icon == nil {
			return fmt.Errorf("tray item %s has no IconPixmap", it)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, info.Icon); err != nil {
			return fmt.Errorf("encode icon: %w", err)
		}
		if err := os.WriteFile(fs.Arg(0), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("save icon: %w", err)
		}
		return nil
	default: // click
		if fs.NArg() != 1 {
			return errors.New("usage: testdesk click [-item I] LABEL|#ID")
		}
		target := fs.Arg(0)
		if n, ok := strings.CutPrefix(target, "#"); ok {
			id, err := strconv.ParseInt(n, 10, 32)
			if err != nil {
				return fmt.Errorf("bad menu id %q: %w", target, err)
			}
			return desk.Click(ctx, conn, it, int32(id))
		}
		return desk.ClickLabel(ctx, conn, it, target)
	}
}

func pickItem(ctx context.Context, conn *dbus.Conn, s string) (desk.Item, error) {
	if s != "" {
		return desk.ParseItem(s)
	}
	items, err := desk.RegisteredItems(ctx, conn)
	if err != nil {
		return desk.Item{}, err
	}
	if len(items) != 1 {
		return desk.Item{}, fmt.Errorf("%d tray items registered, name one with -item: %v", len(items), items)
	}
	return items[0], nil
}

func printMenu(w io.Writer, items []desk.MenuItem, indent string) {
	for _, m := range items {
		if m.Type == "separator" {
			fmt.Fprintf(w, "%s---\n", indent)
			continue
		}
		var flags []string
		if !m.Enabled {
			flags = append(flags, "disabled")
		}
		if !m.Visible {
			flags = append(flags, "hidden")
		}
		if m.ToggleType != "" {
			flags = append(flags, fmt.Sprintf("%s=%v", m.ToggleType, m.Checked()))
		}
		suffix := ""
		if len(flags) > 0 {
			suffix = " [" + strings.Join(flags, ",") + "]"
		}
		fmt.Fprintf(w, "%s#%d %s%s\n", indent, m.ID, desk.CleanLabel(m.Label), suffix)
		printMenu(w, m.Children, indent+"  ")
	}
}

func serve(ctx context.Context, notifyFile, watcherFile, readyFile string) error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return fmt.Errorf("connect to the session bus: %w", err)
	}
	defer conn.Close()
	var nout, wout io.Writer
	if notifyFile != "" {
		f, err := os.OpenFile(notifyFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open notification record: %w", err)
		}
		defer f.Close()
		nout = f
	}
	if watcherFile != "" {
		f, err := os.OpenFile(watcherFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open watcher record: %w", err)
		}
		defer f.Close()
		wout = f
	}
	if _, err := desk.ServeNotifications(conn, nout); err != nil {
		return err
	}
	w, err := desk.ServeWatcher(conn, wout)
	if err != nil {
		return err
	}
	defer w.Close()
	if readyFile != "" {
		if err := os.WriteFile(readyFile, []byte("ready\n"), 0o644); err != nil {
			return fmt.Errorf("write ready file: %w", err)
		}
	}
	<-ctx.Done()
	return nil
}
