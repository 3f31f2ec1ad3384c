package sync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/settings"
	syncer "github.com/salesbridge/salesbridge/addin/sync"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func peakRSSMB() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024
}

// BenchmarkSyncScale: SYNC_BENCH_USERS users (default 1,000) × SYNC_BENCH_ITEMS
// synced contacts (default 200), 1 % changed per round (half in the CRM,
// half in Outlook), the Graph fake answering after 20 ms, users synced by
// SYNC_BENCH_WORKERS concurrent workers (default 32). One b.N iteration is
// one round of every user. The fake runs in this process, so CPU and RSS
// include it.
func BenchmarkSyncScale(b *testing.B) {
	if benchEnv == nil {
		benchEnv = setupScale(b)
	}
	benchEnv.run(b)
}

// scaleEnv is built once per process: the benchmark function runs for
// b.N = 1 first, then for the requested N.
type scaleEnv struct {
	ctx     context.Context
	store   *models.Store
	fake    *graphtest.Server
	eng     *syncer.Engine
	ids     []int64
	mbxs    []*graphtest.Mailbox
	items   int
	workers int
}

var benchEnv *scaleEnv

func setupScale(b *testing.B) *scaleEnv {
	users, items, workers := envInt("SYNC_BENCH_USERS", 1000), envInt("SYNC_BENCH_ITEMS", 200), envInt("SYNC_BENCH_WORKERS", 32)
	ctx := context.Background()
	// The database outlives the first b.Run's cleanup: a scratch testing.T
	// would drop it, so it is opened against a helper that never ends.
	store := dbtest.Open(benchTB{b})
	fake := graphtest.New(graphtest.WithLatency(20 * time.Millisecond))
	boxes := map[string]string{}
	var mu sync.Mutex
	client, err := graph.New(graph.Options{BaseURL: fake.URL(), HTTPClient: fake.HTTPClient(),
		Tokens: graph.TokenFunc(func(_ context.Context, u string) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			return boxes[u], nil
		})})
	if err != nil {
		b.Fatal(err)
	}
	eng := &syncer.Engine{Store: store, Graph: client}
	st := settings.Defaults()
	js, _ := json.Marshal(st)
	store.DB(ctx).Save(&models.AdminSettings{ID: 1, Data: string(js), UpdatedAt: time.Now()})
	ids := make([]int64, users)
	mbxs := make([]*graphtest.Mailbox, users)
	for i := 0; i < users; i++ {
		u := models.User{Username: fmt.Sprintf("bench%d", i), Role: models.RoleUser, Active: true}
		if err := store.DB(ctx).Create(&u).Error; err != nil {
			b.Fatal(err)
		}
		ids[i] = u.ID
		mbxs[i] = fake.AddMailbox(fmt.Sprintf("mbx%d", i), graphtest.MailboxOptions{})
		boxes[syncer.GraphUser(u.ID)] = mbxs[i].ID()
		store.DB(ctx).Create(&models.UserMapping{UserID: u.ID, MSEmail: mbxs[i].ID(), MSEmailNorm: mbxs[i].ID(), Authorized: true, SyncState: models.SyncActive})
		cs := make([]models.Contact, items)
		for j := range cs {
			cs[j] = models.Contact{Record: models.Record{OwnerID: u.ID}, FirstName: "F", LastName: fmt.Sprintf("L%d", j),
				Email: fmt.Sprintf("u%dc%d@example.com", i, j), JobTitle: "Buyer"}
		}
		if err := store.DB(ctx).CreateInBatches(cs, 500).Error; err != nil {
			b.Fatal(err)
		}
	}
	env := &scaleEnv{ctx: ctx, store: store, fake: fake, eng: eng, ids: ids, mbxs: mbxs, items: items, workers: workers}
	t0 := time.Now()
	env.round(b) // initial: creates every item in Outlook
	env.round(b) // reads its own writes back once
	b.Logf("setup: %d users × %d contacts synced in %s", users, items, time.Since(t0).Round(time.Millisecond))
	return env
}

func (s *scaleEnv) round(b *testing.B) {
	ctx, eng, ids, workers := s.ctx, s.eng, s.ids, s.workers
	{
		var wg sync.WaitGroup
		next := make(chan int64)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range next {
					r, err := eng.SyncNow(ctx, id, syncer.TriggerStandard)
					if err != nil || r.Status == models.RunFailed {
						b.Errorf("user %d: %v %+v", id, err, r)
					}
				}
			}()
		}
		for _, id := range ids {
			next <- id
		}
		close(next)
		wg.Wait()
	}
}

func (s *scaleEnv) run(b *testing.B) {
	ctx, store, fake, ids, mbxs, items := s.ctx, s.store, s.fake, s.ids, s.mbxs, s.items
	users := len(ids)
	changes := max(items/100, 2)
	fake.ResetStats()
	b.ResetTimer()
	var cpu float64
	var wall time.Duration
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		for i, id := range ids {
			var cs []models.Contact
			store.DB(ctx).Where("owner_id = ?", id).Order("id").Limit(changes / 2).Offset(n % 50).Find(&cs)
			for _, c := range cs {
				c.JobTitle = fmt.Sprintf("Round %d", n)
				store.DB(ctx).Save(&c)
			}
			list := mbxs[i].List(graphtest.Contacts)
			for k := 0; k < changes-changes/2 && k < len(list); k++ {
				_ = mbxs[i].Update(graphtest.Contacts, list[len(list)-1-k]["id"].(string), map[string]any{"department": fmt.Sprintf("D%d", n)})
			}
		}
		c0 := cpuSeconds()
		b.StartTimer()
		t := time.Now()
		s.round(b)
		wall += time.Since(t)
		cpu += cpuSeconds() - c0
	}
	maxInFlight := 0
	for _, m := range mbxs {
		if s := fake.Stats(m.ID()); s.MaxInFlight > maxInFlight {
			maxInFlight = s.MaxInFlight
		}
	}
	records := float64(users*changes) * float64(b.N)
	b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/round")
	b.ReportMetric(cpu/(records/1000), "cpu-s/1000rec")
	b.ReportMetric(peakRSSMB(), "peak-rss-MB")
	b.ReportMetric(float64(maxInFlight), "max-inflight/mailbox")
	if maxInFlight > 4 {
		b.Fatalf("a mailbox had %d requests in flight", maxInFlight)
	}
}

// benchTB keeps resources registered with Cleanup alive for the process:
// the scale environment is shared by the benchmark's runs.
type benchTB struct{ testing.TB }

func (benchTB) Cleanup(func()) {}
