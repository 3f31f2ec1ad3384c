package graphtest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// deltaState is what a $skiptoken or $deltatoken encodes. Tokens are
// stateless: a round covers the changes with sequence numbers in
// (Since, Until], walked in sequence order from After. An item changed
// again during the round moves past Until and is reported next round, so
// nothing is lost or reported twice in one round.
type deltaState struct {
	Mailbox string `json:"m"`
	Kind    Kind   `json:"k"`
	Coll    string `json:"c,omitempty"`
	Epoch   int    `json:"e"`
	Since   int64  `json:"s"`
	Until   int64  `json:"u,omitempty"`
	After   int64  `json:"a,omitempty"`
	WStart  int64  `json:"ws,omitempty"` // calendar window, unix seconds
	WEnd    int64  `json:"we,omitempty"`
	Select  string `json:"sel,omitempty"`
}

func (d *deltaState) encode() string {
	b, _ := json.Marshal(d)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeDelta(tok string) (*deltaState, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, false
	}
	var d deltaState
	if json.Unmarshal(b, &d) != nil {
		return nil, false
	}
	return &d, true
}

func syncStateGone(c *reqCtx, w http.ResponseWriter) {
	writeError(w, c.s.now(), http.StatusGone, "syncStateNotFound",
		"The sync state generation is not found. Please resync.")
}

// visibleAt reports whether an item was in scope at sequence seq (its
// latest version at or before seq exists, and for events overlaps the
// window).
func (r *record) visibleAt(seq int64, d *deltaState) bool {
	var v *version
	for i := range r.history {
		if r.history[i].seq > seq {
			break
		}
		v = &r.history[i]
	}
	if v == nil || v.deleted {
		return false
	}
	return r.kind != Events || inWindow(v.start, v.end, d)
}

func (r *record) visibleNow(d *deltaState) bool {
	return !r.deleted && (r.kind != Events || inWindow(r.start, r.end, d))
}

func inWindow(start, end time.Time, d *deltaState) bool {
	ws, we := time.Unix(d.WStart, 0), time.Unix(d.WEnd, 0)
	// calendarView includes events overlapping the window; a zero-length
	// event at the window start counts.
	return start.Before(we) && (end.After(ws) || (end.Equal(start) && !start.Before(ws)))
}

func deltaHandler(kind Kind) func(*reqCtx, http.ResponseWriter) {
	return func(c *reqCtx, w http.ResponseWriter) {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		coll, ok := c.coll(kind)
		if !ok {
			c.notFound(w)
			return
		}
		var d *deltaState
		switch {
		case c.query.Get("$deltatoken") != "" || c.query.Get("$skiptoken") != "":
			tok, isDelta := c.query.Get("$deltatoken"), true
			if tok == "" {
				tok, isDelta = c.query.Get("$skiptoken"), false
			}
			st, ok := decodeDelta(tok)
			if !ok || st.Mailbox != c.m.id || st.Kind != kind || st.Coll != coll {
				writeError(w, c.s.now(), http.StatusBadRequest, "BadRequest", "The delta token is malformed.")
				return
			}
			if st.Epoch != c.m.epoch {
				syncStateGone(c, w)
				return
			}
			if isDelta {
				st.Until, st.After = c.m.seq, st.Since
			}
			d = st
		default:
			d = &deltaState{Mailbox: c.m.id, Kind: kind, Coll: coll, Epoch: c.m.epoch, Until: c.m.seq,
				Select: c.query.Get("$select")}
			if kind == Events {
				ws, err1 := time.Parse(time.RFC3339, c.query.Get("startDateTime"))
				we, err2 := time.Parse(time.RFC3339, c.query.Get("endDateTime"))
				if err1 != nil || err2 != nil || !we.After(ws) {
					writeError(w, c.s.now(), http.StatusBadRequest, "ErrorInvalidParameter",
						"This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
					return
				}
				d.WStart, d.WEnd = ws.Unix(), we.Unix()
			}
		}
		o, err := c.renderOpts()
		if err != nil {
			c.fail(w, err)
			return
		}
		if kind == Events {
			// calendarView/delta supports no $select or $expand.
			o.sel, o.expand = nil, nil
			o.odataType = true
		} else if d.Select != "" {
			o.sel = map[string]bool{}
			for _, f := range strings.Split(d.Select, ",") {
				o.sel[strings.TrimSpace(f)] = true
			}
		}

		var cands []*record
		for _, r := range c.m.order {
			if r.kind == kind && r.coll == coll && r.seq > d.After && r.seq > d.Since && r.seq <= d.Until {
				cands = append(cands, r)
			}
		}
		sortBySeq(cands)
		size := c.pageSize()
		value := []any{}
		last := d.After
		more := false
		for _, r := range cands {
			now, was := r.visibleNow(d), r.visibleAt(d.Since, d)
			if !now && !was {
				if len(value) < size {
					last = r.seq
				}
				continue
			}
			if len(value) == size {
				more = true
				break
			}
			last = r.seq
			if now {
				value = append(value, c.m.render(r, o))
			} else {
				rm := map[string]any{"id": r.id, "@removed": map[string]any{"reason": "deleted"}}
				if t := odataTypes[kind]; t != "" {
					rm["@odata.type"] = t
				}
				value = append(value, rm)
			}
		}
		resp := map[string]any{"@odata.context": c.base() + "/$metadata#Collection(" + singular(kind) + ")", "value": value}
		if more {
			next := *d
			next.After = last
			resp["@odata.nextLink"] = c.base() + c.path + "?$skiptoken=" + next.encode()
		} else {
			next := deltaState{Mailbox: d.Mailbox, Kind: d.Kind, Coll: d.Coll, Epoch: d.Epoch, Since: d.Until,
				WStart: d.WStart, WEnd: d.WEnd, Select: d.Select}
			resp["@odata.deltaLink"] = c.base() + c.path + "?$deltatoken=" + next.encode()
		}
		writeJSON(w, 200, resp)
	}
}
