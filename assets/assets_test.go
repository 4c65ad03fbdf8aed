package assets

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"testing"
)

func decode(t *testing.T, name string, data []byte, size int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", name, err)
	}
	if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
		t.Fatalf("%s: size %dx%d, want %dx%d", name, b.Dx(), b.Dy(), size, size)
	}
	return img
}

// opaqueShare is the fraction of pixels that are mostly opaque: an icon
// that is blank or a filled square is drawn wrong.
func opaqueShare(img image.Image) float64 {
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a > 0x8000 {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}

func TestAppIcon(t *testing.T) {
	img := decode(t, "AppIcon", AppIcon, 256)
	if s := opaqueShare(img); s < 0.5 || s > 0.95 {
		t.Errorf("AppIcon opaque share %.2f, want a rounded square (0.5..0.95)", s)
	}
}

func TestTrayIconsDecodeAndDiffer(t *testing.T) {
	want := []TrayState{"connected", "connecting", "offline", "signedout", "paused"}
	if len(TrayStates) != len(want) {
		t.Fatalf("TrayStates = %v, want %v", TrayStates, want)
	}
	seen := map[string]TrayState{}
	for i, s := range TrayStates {
		if s != want[i] {
			t.Errorf("TrayStates[%d] = %q, want %q", i, s, want[i])
		}
		data := Tray(s)
		img := decode(t, string(s), data, 64)
		if sh := opaqueShare(img); sh < 0.2 || sh > 0.8 {
			t.Errorf("tray %q: opaque share %.2f, want a shape on transparency", s, sh)
		}
		if prev, dup := seen[string(data)]; dup {
			t.Errorf("tray %q has the same image as %q", s, prev)
		}
		seen[string(data)] = s
	}
}

func TestTrayUnknownStateFallsBackToOffline(t *testing.T) {
	if !bytes.Equal(Tray("bogus"), Tray(TrayOffline)) {
		t.Error("Tray(unknown) is not the offline icon")
	}
}

func TestTrayICO(t *testing.T) {
	for _, s := range TrayStates {
		ico := TrayICO(s)
		le := binary.LittleEndian
		if len(ico) < 22 || le.Uint16(ico[0:]) != 0 || le.Uint16(ico[2:]) != 1 || le.Uint16(ico[4:]) != 1 {
			t.Fatalf("%s: bad ICONDIR header % x", s, ico[:min(len(ico), 6)])
		}
		if ico[6] != 64 || ico[7] != 64 {
			t.Errorf("%s: entry size %dx%d, want 64x64", s, ico[6], ico[7])
		}
		size, off := le.Uint32(ico[14:]), le.Uint32(ico[18:])
		if int(off)+int(size) != len(ico) {
			t.Fatalf("%s: entry %d bytes at %d, file is %d bytes", s, size, off, len(ico))
		}
		decode(t, string(s)+".ico", ico[off:off+size], 64)
	}
}

func TestLevelIcons(t *testing.T) {
	seen := map[string]string{}
	for _, l := range []string{"success", "info", "warning", "error"} {
		data := LevelIcon(l)
		decode(t, l, data, 128)
		if prev, dup := seen[string(data)]; dup {
			t.Errorf("level %q has the same image as %q", l, prev)
		}
		seen[string(data)] = l
	}
	if !bytes.Equal(LevelIcon("debug"), LevelIcon("info")) {
		t.Error("LevelIcon(unknown) is not the info icon")
	}
}

// systrayARGB is fyne.io/systray v1.12.2's argbForImage (systray_unix.go),
// bug included: byte() keeps the low byte of 16-bit premultiplied values.
func systrayARGB(img image.Image) []byte {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	data := make([]byte, w*h*4)
	i := 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, b, a := img.At(x, y).RGBA()
			data[i], data[i+1], data[i+2], data[i+3] = byte(a), byte(r), byte(g), byte(b)
			i += 4
		}
	}
	return data
}

// worstEdgeError compares what a tray host would show (ARGB read as
// straight colour) with the intended straight colour of want.
func worstEdgeError(t *testing.T, sent []byte, want image.Image) int {
	t.Helper()
	img := decode(t, "sent", sent, 64)
	data := systrayARGB(img)
	worst := 0
	i := 0
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			wc := color.NRGBAModel.Convert(want.At(x, y)).(color.NRGBA)
			if wc.A > 16 { // colour of nearly invisible pixels does not matter
				got := [3]int{int(data[i+1]), int(data[i+2]), int(data[i+3])}
				exp := [3]int{int(wc.R), int(wc.G), int(wc.B)}
				for k := range got {
					worst = max(worst, abs(got[k]-exp[k]))
				}
				worst = max(worst, abs(int(data[i])-int(wc.A)))
			}
			i += 4
		}
	}
	return worst
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestTraySystrayLinuxCompensates(t *testing.T) {
	for _, s := range TrayStates {
		want := decode(t, string(s), Tray(s), 64)
		if e := worstEdgeError(t, TraySystrayLinux(s), want); e > 8 {
			t.Errorf("%s: systray would show colours off by up to %d, want ≤ 8", s, e)
		}
		// The plain PNG really is garbled by systray; else this variant is moot.
		if e := worstEdgeError(t, Tray(s), want); e < 64 {
			t.Errorf("%s: plain icon off by only %d through systray; is the conversion still buggy?", s, e)
		}
	}
}
