package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/salesbridge/salesbridge/addin/usage"
	"github.com/salesbridge/salesbridge/models"
)

// AdminUsage serves the usage report.
type AdminUsage struct {
	Store *models.Store
	Now   func() time.Time
}

// UsageDay is one day's totals.
type UsageDay struct {
	Day   string           `json:"day"`
	Total int64            `json:"total"`
	Kinds map[string]int64 `json:"kinds"`
	Users map[string]int64 `json:"users"`
}

// UsageResponse is GET /admin/usage as JSON.
type UsageResponse struct {
	From string     `json:"from"`
	To   string     `json:"to"`
	Days []UsageDay `json:"days"`
}

// UsageEventRequest is POST /me/usage: what the task pane reports itself
// (searches, shares, creates and edits are counted by the server).
type UsageEventRequest struct {
	Kind string `json:"kind"`
}

// Register mounts the routes.
func (h *AdminUsage) Register(authed, admin *gin.RouterGroup) {
	admin.GET("/usage", TxRaw(h.Store, h.get))
	authed.POST("/me/usage", Tx(h.Store, h.record))
}

func (h *AdminUsage) record(c *gin.Context, ctx context.Context) (Result, error) {
	var req UsageEventRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	if req.Kind != usage.PaneOpen {
		return Result{}, models.InvalidField("kind", "must be pane_open")
	}
	if err := usage.Record(ctx, h.Store, Caller(c).UserID, req.Kind, 1); err != nil {
		return Result{}, err
	}
	return NoContent(), nil
}

func (h *AdminUsage) get(c *gin.Context, ctx context.Context) (Raw, error) {
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "csv" {
		return Raw{}, models.InvalidField("format", "must be json or csv")
	}
	now := time.Now().UTC()
	if h.Now != nil {
		now = h.Now().UTC()
	}
	from, to, err := usage.ParseRange(c.Query("from"), c.Query("to"), now)
	if err != nil {
		return Raw{}, err
	}
	rows, err := usage.Totals(ctx, h.Store, from, to)
	if err != nil {
		return Raw{}, err
	}
	if format == "csv" {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write([]string{"day", "kind", "count", "users"})
		for _, r := range rows {
			_ = w.Write([]string{r.Day, r.Kind, strconv.FormatInt(r.Count, 10), strconv.FormatInt(r.Users, 10)})
		}
		w.Flush()
		return Raw{ContentType: "text/csv; charset=utf-8", Data: buf.Bytes(),
			Headers: map[string]string{"Content-Disposition": `attachment; filename="usage-` + from + `-to-` + to + `.csv"`}}, nil
	}
	out := UsageResponse{From: from, To: to, Days: []UsageDay{}}
	for _, r := range rows {
		if n := len(out.Days); n == 0 || out.Days[n-1].Day != r.Day {
			out.Days = append(out.Days, UsageDay{Day: r.Day, Kinds: map[string]int64{}, Users: map[string]int64{}})
		}
		d := &out.Days[len(out.Days)-1]
		d.Kinds[r.Kind] = r.Count
		d.Users[r.Kind] = r.Users
		d.Total += r.Count
	}
	data, err := json.Marshal(out)
	if err != nil {
		return Raw{}, err
	}
	return Raw{ContentType: "application/json; charset=utf-8", Data: data}, nil
}
