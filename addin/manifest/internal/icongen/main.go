// Command icongen draws the add-in's icons: a rounded square in the brand
// colour with a white "S" stroke, at the sizes the manifests reference
// (icon-16/32/64/80/128.png), plus the 192 px colour icon and 32 px
// white-on-transparent outline icon a unified-manifest app package needs.
//
//	go run ./addin/manifest/internal/icongen -out assets/web/icons
//
// The drawing is plain geometry, anti-aliased by supersampling, so the output
// depends on nothing but this file.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

// brand is #0F6CBD.
var brand = color.NRGBA{R: 0x0F, G: 0x6C, B: 0xBD, A: 0xFF}

// icon is one file to write.
type icon struct {
	file    string
	size    int
	outline bool // white mark on transparent, no background
}

var icons = []icon{
	{"icon-16.png", 16, false},
	{"icon-32.png", 32, false},
	{"icon-64.png", 64, false},
	{"icon-80.png", 80, false},
	{"icon-128.png", 128, false},
	{"color.png", 192, false},
	{"outline.png", 32, true},
}

func main() {
	out := flag.String("out", "assets/web/icons", "directory to write the PNGs into")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, ic := range icons {
		data, err := encode(render(ic.size, ic.outline))
		if err != nil {
			log.Fatal(err)
		}
		path := filepath.Join(*out, ic.file)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %d×%d %d bytes\n", path, ic.size, ic.size, len(data))
	}
}

func encode(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Geometry in a unit square, y pointing down.
const (
	cornerRadius = 0.2   // of the background square
	arcRadius    = 0.16  // of each half of the S
	strokeHalf   = 0.072 // half the stroke width
	samples      = 4     // per axis, per pixel
)

// sPath is the S as a polyline: the upper bowl from its right end over the
// top and left down to the centre, then the lower bowl from the centre round
// the right and bottom to its left end.
var sPath = func() [][2]float64 {
	var pts [][2]float64
	arc := func(cx, cy, from, to float64) {
		const steps = 48
		for i := 0; i <= steps; i++ {
			a := (from + (to-from)*float64(i)/steps) * math.Pi / 180
			pts = append(pts, [2]float64{cx + arcRadius*math.Cos(a), cy + arcRadius*math.Sin(a)})
		}
	}
	arc(0.5, 0.5-arcRadius, -25, -270)
	arc(0.5, 0.5+arcRadius, -90, 155)
	return pts
}()

// render draws one icon of size×size pixels.
func render(size int, outline bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const n = samples * samples
	for py := range size {
		for px := range size {
			var bg, mark int
			for sy := range samples {
				for sx := range samples {
					x := (float64(px) + (float64(sx)+0.5)/samples) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/samples) / float64(size)
					inBG := outline || inRoundedSquare(x, y)
					if inBG {
						bg++
						if onStroke(x, y) {
							mark++
						}
					}
				}
			}
			if outline {
				img.SetNRGBA(px, py, color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: uint8(255 * mark / n)})
				continue
			}
			if bg == 0 {
				continue // transparent
			}
			// Average colour of the covered samples; alpha is the coverage.
			mix := func(c uint8) uint8 { return uint8((mark*255 + (bg-mark)*int(c) + bg/2) / bg) }
			img.SetNRGBA(px, py, color.NRGBA{R: mix(brand.R), G: mix(brand.G), B: mix(brand.B), A: uint8((bg*255 + n/2) / n)})
		}
	}
	return img
}

func inRoundedSquare(x, y float64) bool {
	// Distance from the inner square whose corners are the arc centres.
	dx := math.Max(math.Abs(x-0.5)-(0.5-cornerRadius), 0)
	dy := math.Max(math.Abs(y-0.5)-(0.5-cornerRadius), 0)
	return dx*dx+dy*dy <= cornerRadius*cornerRadius
}

func onStroke(x, y float64) bool {
	for i := 1; i < len(sPath); i++ {
		if segDist2(x, y, sPath[i-1], sPath[i]) <= strokeHalf*strokeHalf {
			return true
		}
	}
	return false
}

// segDist2 is the squared distance from (x, y) to the segment a–b.
func segDist2(x, y float64, a, b [2]float64) float64 {
	vx, vy := b[0]-a[0], b[1]-a[1]
	wx, wy := x-a[0], y-a[1]
	t := 0.0
	if l := vx*vx + vy*vy; l > 0 {
		t = math.Max(0, math.Min(1, (wx*vx+wy*vy)/l))
	}
	dx, dy := wx-t*vx, wy-t*vy
	return dx*dx + dy*dy
}
