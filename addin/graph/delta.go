package graph

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// DeltaOptions selects where a delta run starts and how it pages.
type DeltaOptions struct {
	// Link is the @odata.deltaLink stored by the previous run (or a
	// @odata.nextLink to resume an interrupted one). Empty starts a full
	// sync; its first round returns every item.
	Link string
	// PageSize is sent as Prefer: odata.maxpagesize; 0 uses the client's.
	PageSize int
	// Select limits properties on the initial request of contacts and task
	// deltas (Graph keeps it in the links). calendarView/delta ignores it.
	Select []string
	// FolderID picks a contacts folder; empty uses /me/contacts/delta, the
	// default contacts folder.
	FolderID string
	// Start and End bound calendarView/delta (required when Link is
	// empty). Graph bakes the window into the links; events that move out
	// of it come back as @removed with reason "deleted".
	Start, End time.Time
}

// DeltaResult is one complete delta round: every page from the start link
// to the @odata.deltaLink.
type DeltaResult[T any] struct {
	// Items are the changed items in page order; entries whose Removed is
	// non-nil were deleted or left the scope. An item listed twice by
	// Graph appears once, with its last state, at its first position.
	Items []T
	// DeltaLink is to be stored and passed as DeltaOptions.Link next time.
	DeltaLink string
	// Pages is how many requests the round took.
	Pages int
}

type deltaPage[T any] struct {
	NextLink  string `json:"@odata.nextLink"`
	DeltaLink string `json:"@odata.deltaLink"`
	Value     []T    `json:"value"`
}

// maxDeltaPages stops a server that keeps handing out nextLinks.
const maxDeltaPages = 100000

func (c *Client) preferPageSize(n int) string {
	if n <= 0 {
		n = c.pageSize
	}
	return "odata.maxpagesize=" + strconv.Itoa(n)
}

// runDelta follows one delta round. A 410 / syncStateNotFound anywhere in
// the round surfaces as ErrResyncRequired; the caller then starts over with
// an empty Link and rematches what it already has.
func runDelta[T any, P interface {
	*T
	item
}](ctx context.Context, c *Client, userID string, first *call) (*DeltaResult[T], error) {
	res := &DeltaResult[T]{}
	index := map[string]int{}
	cl := first
	for res.Pages < maxDeltaPages {
		var pg deltaPage[T]
		if _, err := c.send(ctx, userID, cl, &pg); err != nil {
			return nil, err
		}
		res.Pages++
		for _, it := range pg.Value {
			id := P(&it).itemID()
			if i, ok := index[id]; ok && id != "" {
				res.Items[i] = it
				continue
			}
			index[id] = len(res.Items)
			res.Items = append(res.Items, it)
		}
		if pg.DeltaLink != "" {
			res.DeltaLink = pg.DeltaLink
			return res, nil
		}
		if pg.NextLink == "" {
			return nil, &Error{Kind: ErrServer, Method: http.MethodGet, Path: cl.logPath(),
				Message: "delta page has neither @odata.nextLink nor @odata.deltaLink"}
		}
		cl = &call{method: http.MethodGet, link: pg.NextLink, prefer: first.prefer, retrySafe: true, weight: 1}
	}
	return nil, &Error{Kind: ErrServer, Method: http.MethodGet, Path: first.logPath(), Message: "delta did not end"}
}

func (c *Client) deltaCall(path string, q url.Values, opts DeltaOptions, extraPrefer ...string) *call {
	prefer := append([]string{c.preferPageSize(opts.PageSize)}, extraPrefer...)
	if opts.Link != "" {
		return &call{method: http.MethodGet, link: opts.Link, prefer: prefer, retrySafe: true, weight: 1}
	}
	return &call{method: http.MethodGet, path: path, query: q, prefer: prefer, retrySafe: true, weight: 1}
}

func selectQuery(sel []string) url.Values {
	q := url.Values{}
	if len(sel) > 0 {
		s := ""
		for i, f := range sel {
			if i > 0 {
				s += ","
			}
			s += f
		}
		q.Set("$select", s)
	}
	return q
}

// listPage is a plain collection page.
type listPage[T any] struct {
	NextLink string `json:"@odata.nextLink"`
	Value    []T    `json:"value"`
}

// listAll reads a collection through all its @odata.nextLink pages.
func listAll[T any](ctx context.Context, c *Client, userID string, first *call) ([]T, error) {
	var out []T
	cl := first
	for pages := 0; pages < maxDeltaPages; pages++ {
		var pg listPage[T]
		if _, err := c.send(ctx, userID, cl, &pg); err != nil {
			return nil, err
		}
		out = append(out, pg.Value...)
		if pg.NextLink == "" {
			return out, nil
		}
		cl = &call{method: http.MethodGet, link: pg.NextLink, prefer: first.prefer, retrySafe: true, weight: 1}
	}
	return nil, errors.New("graph: collection did not end")
}

func graphTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
