package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// iconsDir finds assets/web/icons beside the module's go.mod.
func iconsDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "assets", "web", "icons")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// The committed icons are what the generator draws (compared pixel by
// pixel, so a different zlib in a later Go does not matter), and small.
func TestCommittedIconsMatchTheGenerator(t *testing.T) {
	dir := iconsDir(t)
	for _, ic := range icons {
		t.Run(ic.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, ic.file))
			if err != nil {
				t.Fatalf("%v (run go generate ./addin/manifest)", err)
			}
			if len(data) >= 10<<10 {
				t.Errorf("%d bytes, want under 10 KB", len(data))
			}
			got, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if b := got.Bounds(); b.Dx() != ic.size || b.Dy() != ic.size {
				t.Fatalf("%v, want %d×%d", b, ic.size, ic.size)
			}
			want := render(ic.size, ic.outline)
			for y := range ic.size {
				for x := range ic.size {
					if g, w := color.NRGBAModel.Convert(got.At(x, y)), want.NRGBAAt(x, y); g != w {
						t.Fatalf("pixel (%d,%d) = %v, generator draws %v; run go generate ./addin/manifest", x, y, g, w)
					}
				}
			}
		})
	}
}

func TestIconLooks(t *testing.T) {
	for _, size := range []int{16, 32, 64, 80, 128, 192} {
		img := render(size, false)
		if a := img.NRGBAAt(0, 0).A; a > 64 {
			t.Errorf("%d px: corner alpha %d, want the rounded corner mostly transparent", size, a)
		}
		// Left edge, half way down: background in the brand colour.
		if c := img.NRGBAAt(size/16, size/2); c != brand {
			t.Errorf("%d px: background %v, want %v", size, c, brand)
		}
		if n := count(img, func(c color.NRGBA) bool { return c.R > 0xF0 && c.G > 0xF0 && c.B > 0xF0 && c.A == 0xFF }); n < size*size/20 {
			t.Errorf("%d px: only %d white pixels for the S", size, n)
		}
	}
	out := render(32, true)
	if n := count(out, func(c color.NRGBA) bool { return c.A > 0 && (c.R != 0xFF || c.G != 0xFF || c.B != 0xFF) }); n != 0 {
		t.Errorf("outline icon has %d non-white pixels", n)
	}
	if out.NRGBAAt(0, 0).A != 0 {
		t.Error("outline icon background is not transparent")
	}
}

func count(img *image.NRGBA, f func(color.NRGBA) bool) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if f(img.NRGBAAt(x, y)) {
				n++
			}
		}
	}
	return n
}
