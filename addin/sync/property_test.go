package sync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/settings"
	syncer "github.com/salesbridge/salesbridge/addin/sync"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
)

// killer cancels the running sync after a number of Graph requests, as a
// crash of the worker would.
type killer struct {
	base   http.RoundTripper
	left   atomic.Int64
	cancel atomic.Pointer[context.CancelFunc]
}

func (k *killer) RoundTrip(r *http.Request) (*http.Response, error) {
	if k.left.Load() > 0 && k.left.Add(-1) == 0 {
		if c := k.cancel.Load(); c != nil {
			(*c)()
		}
	}
	return k.base.RoundTrip(r)
}

type propWorld struct {
	t     *testing.T
	ctx   context.Context
	store *models.Store
	fake  *graphtest.Server
	clock *graphtest.Clock
	kill  *killer
	eng   *syncer.Engine
	boxes map[string]string // graph user id → mailbox
}

// TestPropertyContacts runs random, seeded sequences of edits on both
// sides interleaved with runs under faults, expired delta tokens and
// killed runs; after two clean runs both sides must agree, hold no
// duplicates, have lost nothing nobody deleted, and a further run must
// change nothing. SYNC_PROPERTY_SEQUENCES overrides the count (500 under
// CI=true, 40 otherwise); SYNC_PROPERTY_SEED picks the first seed.
func TestPropertyContacts(t *testing.T) {
	n := 40
	if os.Getenv("CI") == "true" {
		n = 500
	}
	if v, err := strconv.Atoi(os.Getenv("SYNC_PROPERTY_SEQUENCES")); err == nil && v > 0 {
		n = v
	}
	seed0 := uint64(1)
	if v, err := strconv.ParseUint(os.Getenv("SYNC_PROPERTY_SEED"), 10, 64); err == nil {
		seed0 = v
	}
	w := &propWorld{t: t, ctx: context.Background(), store: dbtest.Open(t), boxes: map[string]string{}}
	w.clock = graphtest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	w.fake = graphtest.New()
	t.Cleanup(w.fake.Close)
	hc := w.fake.HTTPClient()
	w.kill = &killer{base: hc.Transport}
	client, err := graph.New(graph.Options{BaseURL: w.fake.URL(), HTTPClient: &http.Client{Transport: w.kill},
		Tokens: graph.TokenFunc(func(_ context.Context, u string) (string, error) { return w.boxes[u], nil }),
		Clock:  w.clock, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	w.eng = &syncer.Engine{Store: w.store, Graph: client, Now: w.clock.Now}
	s := settings.Defaults()
	s.DeleteBrakeMinimum = 1 << 20 // the brake has its own test
	b, _ := json.Marshal(s)
	w.store.DB(w.ctx).Save(&models.AdminSettings{ID: 1, Data: string(b), UpdatedAt: time.Now()})
	for i := 0; i < n; i++ {
		seed := seed0 + uint64(i)
		if !w.sequence(seed) {
			t.Fatalf("sequence with seed %d failed (rerun: SYNC_PROPERTY_SEED=%d SYNC_PROPERTY_SEQUENCES=1)", seed, seed)
		}
	}
}

type token struct {
	name                   string
	fromCRM                bool
	deletedCRM, deletedOut bool
	everCategorized        bool
}

func (w *propWorld) sequence(seed uint64) bool {
	t := w.t
	rng := rand.New(rand.NewPCG(seed, seed*7919))
	u := models.User{Username: fmt.Sprintf("u%d", seed), Role: models.RoleUser, Active: true}
	if err := w.store.DB(w.ctx).Create(&u).Error; err != nil {
		t.Fatal(err)
	}
	mbxID := fmt.Sprintf("mbx-%d", seed)
	mbx := w.fake.AddMailbox(mbxID, graphtest.MailboxOptions{})
	w.boxes[syncer.GraphUser(u.ID)] = mbxID
	w.store.DB(w.ctx).Create(&models.UserMapping{UserID: u.ID, MSEmail: mbxID, MSEmailNorm: mbxID, Authorized: true, SyncState: models.SyncActive})

	var toks []*token
	crmOf := func(tk *token) []models.Contact {
		var cs []models.Contact
		w.store.DB(w.ctx).Where("owner_id = ? AND last_name = ?", u.ID, tk.name).Find(&cs)
		return cs
	}
	outOf := func(tk *token) []map[string]any {
		var out []map[string]any
		for _, it := range mbx.List(graphtest.Contacts) {
			if it["surname"] == tk.name {
				out = append(out, it)
			}
		}
		return out
	}
	pick := func() *token {
		if len(toks) == 0 {
			return nil
		}
		return toks[rng.IntN(len(toks))]
	}
	words := []string{"Analyst", "Manager", "Engineer", "Director", "Intern", ""}
	run := func(faulty bool) {
		if faulty {
			w.fake.SetRandomFaults(rng.Uint64(), graphtest.RandomFaults{Mailbox: mbxID, Throttle: 0.03, Unavailable: 0.03, Reset: 0.02, AfterApply: 0.02})
		}
		ctx, cancel := context.WithCancel(w.ctx)
		defer cancel()
		if faulty && rng.IntN(4) == 0 {
			w.kill.cancel.Store(&cancel)
			w.kill.left.Store(int64(1 + rng.IntN(6)))
		}
		r, _, err := w.eng.Start(ctx, u.ID, syncer.TriggerStandard)
		if err == nil {
			_, _ = w.eng.Execute(ctx, r.ID) // a faulty run may fail; only clean runs are checked
			if ctx.Err() != nil {
				// Killed: the job is retried and resumes the same run.
				w.kill.left.Store(0)
				w.fake.ClearFaults()
				if _, err := w.eng.Execute(w.ctx, r.ID); err != nil {
					t.Errorf("resume: %v", err)
				}
			}
		}
		w.kill.left.Store(0)
		w.fake.ClearFaults()
	}
	steps := 6 + rng.IntN(14)
	for i := 0; i < steps; i++ {
		switch op := rng.IntN(10); op {
		case 0, 1:
			tk := &token{name: fmt.Sprintf("T%d", len(toks)), fromCRM: true}
			toks = append(toks, tk)
			w.store.DB(w.ctx).Create(&models.Contact{Record: models.Record{OwnerID: u.ID}, FirstName: "F", LastName: tk.name,
				Email: tk.name + "@example.com", JobTitle: words[rng.IntN(len(words))]})
		case 2:
			tk := &token{name: fmt.Sprintf("T%d", len(toks))}
			toks = append(toks, tk)
			cats := []string{category}
			if rng.IntN(5) == 0 {
				cats = []string{"Personal"}
			} else {
				tk.everCategorized = true
			}
			_, _ = mbx.Create(graphtest.Contacts, graph.Contact{GivenName: "G", Surname: tk.name, Categories: cats,
				JobTitle: words[rng.IntN(len(words))], EmailAddresses: []graph.EmailAddress{{Address: tk.name + "@example.org"}}})
		case 3:
			if tk := pick(); tk != nil {
				for _, c := range crmOf(tk) {
					c.JobTitle, c.Department = words[rng.IntN(len(words))], words[rng.IntN(len(words))]
					w.store.DB(w.ctx).Save(&c)
				}
			}
		case 4:
			if tk := pick(); tk != nil {
				for _, it := range outOf(tk) {
					_ = mbx.Update(graphtest.Contacts, it["id"].(string), map[string]any{"jobTitle": words[rng.IntN(len(words))], "mobilePhone": strconv.Itoa(rng.IntN(100))})
				}
			}
		case 5:
			if tk := pick(); tk != nil && rng.IntN(2) == 0 {
				for _, c := range crmOf(tk) {
					tk.deletedCRM = true
					_ = w.store.SoftDelete(w.ctx, "contacts", c.ID)
				}
			} else if tk != nil {
				for _, it := range outOf(tk) {
					tk.deletedOut = true
					_ = mbx.Delete(graphtest.Contacts, it["id"].(string))
				}
			}
		case 6:
			if tk := pick(); tk != nil {
				for _, it := range outOf(tk) {
					cats := []string{category}
					if cs, _ := it["categories"].([]any); len(cs) > 0 && cs[0] == category {
						cats = []string{}
					} else {
						tk.everCategorized = true
					}
					_ = mbx.Update(graphtest.Contacts, it["id"].(string), map[string]any{"categories": cats})
				}
			}
		case 7:
			mbx.ExpireDeltaTokens()
		default:
			run(true)
		}
	}
	// Faults stop; two clean runs converge, a third changes nothing.
	run(false)
	run(false)
	w.fake.ResetStats()
	r, err := w.eng.SyncNow(w.ctx, u.ID, syncer.TriggerStandard)
	if err != nil || r.Status != models.RunSucceeded {
		t.Errorf("seed %d: final run %v %+v", seed, err, r)
		return false
	}
	ok := true
	fail := func(format string, args ...any) {
		t.Errorf("seed %d: "+format, append([]any{seed}, args...)...)
		ok = false
	}
	var evs []models.SyncRecordEvent
	w.store.DB(w.ctx).Where("run_id = ?", r.ID).Find(&evs)
	if len(evs) > 0 {
		fail("third clean run changed things: %+v", evs)
	}
	st := w.fake.Stats(mbxID)
	if st.Writes != 0 || st.MeetingMessages != 0 {
		fail("third clean run: %d writes, %d meeting messages", st.Writes, st.MeetingMessages)
	}
	var pending int64
	w.store.DB(w.ctx).Table("sync_links").Where("user_id = ? AND state = 'pending'", u.ID).Count(&pending)
	if pending > 0 {
		fail("%d pending links", pending)
	}
	for _, tk := range toks {
		cs, os := crmOf(tk), outOf(tk)
		if len(cs) > 1 || len(os) > 1 {
			fail("%s duplicated: %d in CRM, %d in Outlook", tk.name, len(cs), len(os))
			continue
		}
		categorized := len(os) == 1 && hasCat(os[0])
		if !tk.deletedCRM && !tk.deletedOut {
			switch {
			case tk.fromCRM && (len(cs) != 1 || len(os) != 1):
				fail("%s (from CRM, never deleted): %d in CRM, %d in Outlook", tk.name, len(cs), len(os))
			case !tk.fromCRM && len(os) != 1:
				fail("%s (from Outlook, never deleted) lost in Outlook", tk.name)
			case !tk.fromCRM && categorized && len(cs) != 1:
				fail("%s (tagged in Outlook) not in the CRM", tk.name)
			}
		}
		if len(cs) == 1 && len(os) == 1 && categorized {
			c := cs[0]
			if c.JobTitle != str(os[0]["jobTitle"]) || c.Mobile != str(os[0]["mobilePhone"]) || c.Department != str(os[0]["department"]) {
				fail("%s differs: CRM %q/%q/%q Outlook %v/%v/%v", tk.name, c.JobTitle, c.Mobile, c.Department,
					os[0]["jobTitle"], os[0]["mobilePhone"], os[0]["department"])
			}
		}
	}
	return ok
}

func hasCat(it map[string]any) bool {
	cs, _ := it["categories"].([]any)
	for _, c := range cs {
		if c == category {
			return true
		}
	}
	return false
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
