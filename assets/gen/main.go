// Command gen draws ToastTray's icons and writes them as PNG files next to
// the assets package. Run it with `go generate ./assets` after changing a
// shape or a colour; the generated files are committed, and a test checks
// that they are up to date.
//
// Shapes are described in unit coordinates (0..1 of the icon's side) and
// filled by golang.org/x/image/vector, which computes exact per-pixel
// coverage, so edges are anti-aliased without supersampling.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/image/vector"
)

// Sizes of the generated icons in pixels.
const (
	appSize   = 256
	traySize  = 64
	levelSize = 128
)

func main() {
	dir := flag.String("dir", ".", "the assets directory to write into")
	flag.Parse()
	files, err := Render()
	if err != nil {
		log.Fatal(err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(*dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// Render draws every icon and returns the PNG files keyed by their slash
// path relative to the assets directory.
func Render() (map[string][]byte, error) {
	out := map[string][]byte{}
	add := func(name string, img image.Image) error {
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc.Encode(&buf, img); err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		out[name] = buf.Bytes()
		return nil
	}
	if err := add("icon.png", appIcon(appSize)); err != nil {
		return nil, err
	}
	for _, s := range trayStates {
		img := trayIcon(traySize, s)
		if err := add("tray/"+s.name+".png", img); err != nil {
			return nil, err
		}
		if err := add("tray/systray-linux/"+s.name+".png", compensateSystray(img)); err != nil {
			return nil, err
		}
	}
	for _, l := range levels {
		if err := add("level/"+l.name+".png", levelIcon(levelSize, l)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Palette.
var (
	white     = rgb(0xff, 0xff, 0xff)
	ink       = rgb(0x26, 0x32, 0x38) // dark outline, readable on light panels
	bellLight = rgb(0xf5, 0xf5, 0xf5) // bell on the tray, readable on dark panels
	bellDim   = rgb(0xa7, 0xb1, 0xb7) // bell when not delivering toasts
	green     = rgb(0x2e, 0x9d, 0x47)
	amber     = rgb(0xf6, 0xa8, 0x00)
	red       = rgb(0xd9, 0x30, 0x25)
	slate     = rgb(0x6b, 0x7c, 0x86)
	blue      = rgb(0x1e, 0x7b, 0xe0)
	orangeTop = rgb(0xff, 0xa9, 0x4d)
	orangeBot = rgb(0xe8, 0x59, 0x0c)
)

func rgb(r, g, b uint8) color.NRGBA { return color.NRGBA{r, g, b, 0xff} }

type glyph int

const (
	glyphCheck glyph = iota
	glyphDots
	glyphBang
	glyphMinus
	glyphPause
	glyphInfo
	glyphCross
)

type trayState struct {
	name  string
	bell  color.NRGBA
	badge color.NRGBA
	glyph glyph
}

var trayStates = []trayState{
	{"connected", bellLight, green, glyphCheck},
	{"connecting", bellLight, amber, glyphDots},
	{"offline", bellDim, red, glyphBang},
	{"signedout", bellDim, slate, glyphMinus},
	{"paused", bellDim, blue, glyphPause},
}

type level struct {
	name  string
	fill  color.NRGBA
	glyph glyph
	ink   color.NRGBA
}

var levels = []level{
	{"success", green, glyphCheck, white},
	{"info", blue, glyphInfo, white},
	{"warning", amber, glyphBang, ink},
	{"error", red, glyphCross, white},
}

// mask is a coverage mask that shapes are unioned into.
type mask struct {
	a    *image.Alpha
	size float32
}

func newMask(size int) *mask {
	return &mask{a: image.NewAlpha(image.Rect(0, 0, size, size)), size: float32(size)}
}

// path is a closed outline in unit coordinates.
type path func(z *vector.Rasterizer, s float32)

// add unions the filled path into the mask.
func (m *mask) add(p path) *mask {
	b := m.a.Bounds()
	z := vector.NewRasterizer(b.Dx(), b.Dy())
	z.DrawOp = draw.Over
	p(z, m.size)
	z.Draw(m.a, b, image.Opaque, image.Point{})
	return m
}

// dilate returns a mask grown by r pixels in every direction (a max filter
// over a disc), which gives an outline when filled behind the original.
func (m *mask) dilate(r float64) *mask {
	b := m.a.Bounds()
	out := image.NewAlpha(b)
	ri := int(math.Ceil(r))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var best float64
			for dy := -ri; dy <= ri; dy++ {
				for dx := -ri; dx <= ri; dx++ {
					d := math.Hypot(float64(dx), float64(dy))
					if d > r+1 {
						continue
					}
					px, py := x+dx, y+dy
					if !(image.Point{px, py}.In(b)) {
						continue
					}
					v := float64(m.a.AlphaAt(px, py).A) / 255
					// Soften the disc's own edge so the outline stays anti-aliased.
					if d > r {
						v *= r + 1 - d
					}
					best = math.Max(best, v)
				}
			}
			out.SetAlpha(x, y, color.Alpha{uint8(math.Round(best * 255))})
		}
	}
	return &mask{a: out, size: m.size}
}

// fill paints c through the mask onto dst.
func fill(dst *image.RGBA, m *mask, c color.Color) {
	draw.DrawMask(dst, dst.Bounds(), image.NewUniform(c), image.Point{}, m.a, image.Point{}, draw.Over)
}

// erase clears dst where the mask covers it, leaving transparency.
func erase(dst *image.RGBA, m *mask) {
	b := dst.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			k := 255 - uint32(m.a.AlphaAt(x, y).A)
			i := dst.PixOffset(x, y)
			for j := 0; j < 4; j++ {
				dst.Pix[i+j] = uint8(uint32(dst.Pix[i+j]) * k / 255)
			}
		}
	}
}

// circle is a disc of radius r around (cx, cy), as four cubic arcs.
func circle(cx, cy, r float32) path {
	const k = 0.5522847498 // control distance for a quarter circle
	return func(z *vector.Rasterizer, s float32) {
		x, y, rr := cx*s, cy*s, r*s
		c := k * rr
		z.MoveTo(x+rr, y)
		z.CubeTo(x+rr, y+c, x+c, y+rr, x, y+rr)
		z.CubeTo(x-c, y+rr, x-rr, y+c, x-rr, y)
		z.CubeTo(x-rr, y-c, x-c, y-rr, x, y-rr)
		z.CubeTo(x+c, y-rr, x+rr, y-c, x+rr, y)
		z.ClosePath()
	}
}

// roundRect is a rectangle with corners of radius r.
func roundRect(x0, y0, x1, y1, r float32) path {
	const k = 0.5522847498
	return func(z *vector.Rasterizer, s float32) {
		x0, y0, x1, y1, r := x0*s, y0*s, x1*s, y1*s, r*s
		c := k * r
		z.MoveTo(x0+r, y0)
		z.LineTo(x1-r, y0)
		z.CubeTo(x1-r+c, y0, x1, y0+r-c, x1, y0+r)
		z.LineTo(x1, y1-r)
		z.CubeTo(x1, y1-r+c, x1-r+c, y1, x1-r, y1)
		z.LineTo(x0+r, y1)
		z.CubeTo(x0+r-c, y1, x0, y1-r+c, x0, y1-r)
		z.LineTo(x0, y0+r)
		z.CubeTo(x0, y0+r-c, x0+r-c, y0, x0+r, y0)
		z.ClosePath()
	}
}

// segment is a straight stroke of width w from (x0, y0) to (x1, y1) with
// square ends; pair it with circles for round caps.
func segment(x0, y0, x1, y1, w float32) path {
	return func(z *vector.Rasterizer, s float32) {
		dx, dy := x1-x0, y1-y0
		l := float32(math.Hypot(float64(dx), float64(dy)))
		nx, ny := -dy/l*w/2, dx/l*w/2
		z.MoveTo((x0+nx)*s, (y0+ny)*s)
		z.LineTo((x1+nx)*s, (y1+ny)*s)
		z.LineTo((x1-nx)*s, (y1-ny)*s)
		z.LineTo((x0-nx)*s, (y0-ny)*s)
		z.ClosePath()
	}
}

// stroke adds a round-capped polyline of width w through the points.
func (m *mask) stroke(w float32, pts ...[2]float32) *mask {
	for i, p := range pts {
		m.add(circle(p[0], p[1], w/2))
		if i > 0 {
			q := pts[i-1]
			m.add(segment(q[0], q[1], p[0], p[1], w))
		}
	}
	return m
}

// bell adds a bell inside the box (x, y, side d), all in unit coordinates.
func (m *mask) bell(x, y, d float32) *mask {
	at := func(u, v float32) (float32, float32) { return x + u*d, y + v*d }
	body := func(z *vector.Rasterizer, s float32) {
		pt := func(u, v float32) (float32, float32) {
			px, py := at(u, v)
			return px * s, py * s
		}
		z.MoveTo(pt(0.10, 0.78))
		a, b := pt(0.90, 0.78)
		z.LineTo(a, b)
		c1x, c1y := pt(0.80, 0.71)
		c2x, c2y := pt(0.77, 0.63)
		ex, ey := pt(0.77, 0.50)
		z.CubeTo(c1x, c1y, c2x, c2y, ex, ey)
		ex, ey = pt(0.77, 0.42)
		z.LineTo(ex, ey)
		c1x, c1y = pt(0.77, 0.25)
		c2x, c2y = pt(0.65, 0.15)
		ex, ey = pt(0.50, 0.15)
		z.CubeTo(c1x, c1y, c2x, c2y, ex, ey)
		c1x, c1y = pt(0.35, 0.15)
		c2x, c2y = pt(0.23, 0.25)
		ex, ey = pt(0.23, 0.42)
		z.CubeTo(c1x, c1y, c2x, c2y, ex, ey)
		ex, ey = pt(0.23, 0.50)
		z.LineTo(ex, ey)
		c1x, c1y = pt(0.23, 0.63)
		c2x, c2y = pt(0.20, 0.71)
		ex, ey = pt(0.10, 0.78)
		z.CubeTo(c1x, c1y, c2x, c2y, ex, ey)
		z.ClosePath()
	}
	m.add(body)
	rx0, ry0 := at(0.07, 0.74)
	rx1, ry1 := at(0.93, 0.83)
	m.add(roundRect(rx0, ry0, rx1, ry1, 0.045*d))
	kx, ky := at(0.50, 0.13)
	m.add(circle(kx, ky, 0.065*d))
	cx, cy := at(0.50, 0.86)
	m.add(circle(cx, cy, 0.09*d))
	return m
}

// glyph adds g centred on (cx, cy) in a disc of radius r.
func (m *mask) glyph(g glyph, cx, cy, r float32) *mask {
	w := r * 0.30 // stroke width
	switch g {
	case glyphCheck:
		m.stroke(w,
			[2]float32{cx - 0.45*r, cy + 0.02*r},
			[2]float32{cx - 0.12*r, cy + 0.36*r},
			[2]float32{cx + 0.48*r, cy - 0.32*r})
	case glyphDots:
		for _, dx := range []float32{-0.5, 0, 0.5} {
			m.add(circle(cx+dx*r, cy, 0.17*r))
		}
	case glyphBang:
		m.stroke(w, [2]float32{cx, cy - 0.48*r}, [2]float32{cx, cy + 0.10*r})
		m.add(circle(cx, cy+0.45*r, w*0.6))
	case glyphMinus:
		m.stroke(w, [2]float32{cx - 0.45*r, cy}, [2]float32{cx + 0.45*r, cy})
	case glyphPause:
		for _, dx := range []float32{-0.24, 0.24} {
			m.add(roundRect(cx+dx*r-0.13*r, cy-0.45*r, cx+dx*r+0.13*r, cy+0.45*r, 0.06*r))
		}
	case glyphInfo:
		m.add(circle(cx, cy-0.45*r, w*0.6))
		m.stroke(w, [2]float32{cx, cy - 0.08*r}, [2]float32{cx, cy + 0.50*r})
	case glyphCross:
		m.stroke(w, [2]float32{cx - 0.38*r, cy - 0.38*r}, [2]float32{cx + 0.38*r, cy + 0.38*r})
		m.stroke(w, [2]float32{cx - 0.38*r, cy + 0.38*r}, [2]float32{cx + 0.38*r, cy - 0.38*r})
	}
	return m
}

// appIcon is an orange rounded square with a white bell and a soft shadow.
func appIcon(size int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	bg := newMask(size).add(roundRect(0.04, 0.04, 0.96, 0.96, 0.2))
	grad := image.NewRGBA(img.Bounds())
	for y := 0; y < size; y++ {
		t := float64(y) / float64(size-1)
		c := color.NRGBA{
			R: lerp8(orangeTop.R, orangeBot.R, t),
			G: lerp8(orangeTop.G, orangeBot.G, t),
			B: lerp8(orangeTop.B, orangeBot.B, t),
			A: 0xff,
		}
		for x := 0; x < size; x++ {
			grad.Set(x, y, c)
		}
	}
	draw.DrawMask(img, img.Bounds(), grad, image.Point{}, bg.a, image.Point{}, draw.Over)
	shadow := newMask(size).bell(0.19, 0.21, 0.62)
	fill(img, shadow, color.NRGBA{0x7a, 0x2a, 0x00, 0x55})
	fill(img, newMask(size).bell(0.19, 0.18, 0.62), white)
	return img
}

func lerp8(a, b uint8, t float64) uint8 {
	return uint8(math.Round(float64(a) + (float64(b)-float64(a))*t))
}

// trayIcon is a bell with an outline and a status badge at the bottom right.
func trayIcon(size int, s trayState) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	px := 1 / float32(size)
	bell := newMask(size).bell(0.02, 0.0, 0.86)
	fill(img, bell.dilate(2.2), ink)
	fill(img, bell, s.bell)
	const bx, by, br = 0.72, 0.72, 0.24
	erase(img, newMask(size).add(circle(bx, by, br+2.5*px)))
	fill(img, newMask(size).add(circle(bx, by, br)), ink)
	fill(img, newMask(size).add(circle(bx, by, br-2*px)), s.badge)
	fill(img, newMask(size).glyph(s.glyph, bx, by, br-2*px), white)
	return img
}

// levelIcon is a coloured disc with a glyph, for notifications.
func levelIcon(size int, l level) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	fill(img, newMask(size).add(circle(0.5, 0.5, 0.47)), l.fill)
	fill(img, newMask(size).glyph(l.glyph, 0.5, 0.5, 0.47), l.ink)
	return img
}

// compensateSystray returns a copy of img whose translucent pixels are
// adjusted so that fyne.io/systray v1.12.2's Linux conversion produces the
// intended colours. That conversion (argbForImage) stores byte(r) of the
// 16-bit premultiplied value from color.NRGBA.RGBA(), i.e. its low byte,
// where a tray host expects 8-bit straight (non-premultiplied) colour.
// Opaque and fully transparent pixels come out right anyway; for the rest
// each channel value v is chosen so that lowByte(v*257*a/255) is as close
// as possible to the wanted colour, trying alpha a±1 as well.
func compensateSystray(src *image.RGBA) *image.NRGBA {
	b := src.Bounds()
	out := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(src.At(x, y)).(color.NRGBA)
			if c.A == 0 || c.A == 0xff {
				out.SetNRGBA(x, y, c)
				continue
			}
			best, bestErr := c, math.MaxInt
			for _, da := range []int{0, 1, -1} {
				a := int(c.A) + da
				if a <= 0 || a >= 0xff {
					continue
				}
				r, er := solveLowByte(c.R, a)
				g, eg := solveLowByte(c.G, a)
				bl, eb := solveLowByte(c.B, a)
				if e := er + eg + eb + 4*abs(da); e < bestErr {
					best, bestErr = color.NRGBA{r, g, bl, uint8(a)}, e
				}
			}
			out.SetNRGBA(x, y, best)
		}
	}
	return out
}

// solveLowByte finds v with lowByte(v*257*a/255) closest to want.
func solveLowByte(want uint8, a int) (uint8, int) {
	bestV, bestErr := 0, math.MaxInt
	for v := 0; v < 256; v++ {
		got := (v * 257 * a / 255) & 0xff
		if e := abs(got - int(want)); e < bestErr {
			bestV, bestErr = v, e
		}
	}
	return uint8(bestV), bestErr
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
