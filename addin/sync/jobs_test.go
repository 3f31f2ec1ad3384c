package sync_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/addin/settings"
	syncer "github.com/salesbridge/salesbridge/addin/sync"
	"github.com/salesbridge/salesbridge/addin/syncjobs"
	"github.com/salesbridge/salesbridge/models"
)

func TestRunsNeverOverlap(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	started := make(chan int64, 8)
	runs := make(chan int64, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, ok, err := h.eng.Start(h.ctx, h.user, syncer.TriggerManual)
			if err != nil {
				t.Error(err)
				return
			}
			runs <- r.ID
			if ok {
				started <- r.ID
			}
		}()
	}
	wg.Wait()
	close(started)
	close(runs)
	if len(started) != 1 {
		t.Fatalf("%d runs started at once", len(started))
	}
	id := <-started
	for r := range runs {
		if r != id {
			t.Fatalf("run %d returned while %d runs", r, id)
		}
	}
	// A push while the run is unfinished waits (snooze).
	w := &syncer.PushWorker{Engine: h.eng}
	err := w.Work(h.ctx, &river.Job[syncjobs.PushArgs]{Args: syncjobs.PushArgs{UserID: h.user, ObjectType: "contact", CrmID: 1}})
	var snooze *river.JobSnoozeError
	if !errors.As(err, &snooze) {
		t.Fatalf("push during a run: %v", err)
	}
	if _, err := h.eng.Execute(h.ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := w.Work(h.ctx, &river.Job[syncjobs.PushArgs]{Args: syncjobs.PushArgs{UserID: h.user, ObjectType: "contact", CrmID: 1}}); err != nil {
		t.Fatal(err)
	}
}

func TestSchedulerFollowsInterval(t *testing.T) {
	h := newHarness(t)
	now := h.clock.Now()
	due, err := syncer.DueUsers(h.ctx, h.store, now, 2*time.Hour)
	if err != nil || len(due) != 1 {
		t.Fatalf("due %v %v", due, err)
	}
	h.sync()
	if due, _ := syncer.DueUsers(h.ctx, h.store, now.Add(time.Hour), 2*time.Hour); len(due) != 0 {
		t.Fatalf("due after a run: %v", due)
	}
	h.setSettings(func(s *settings.Settings) { s.StandardSyncMinutes = 30 })
	st, _ := settings.Load(h.ctx, h.store)
	if due, _ := syncer.DueUsers(h.ctx, h.store, now.Add(time.Hour), time.Duration(st.StandardSyncMinutes)*time.Minute); len(due) != 1 {
		t.Fatalf("new interval not applied: %v", due)
	}
	// Users needing review, suspended or unauthorized are not scheduled.
	h.store.DB(h.ctx).Model(&models.UserMapping{}).Where("user_id = ?", h.user).Update("sync_state", models.SyncNeedsReview)
	if due, _ := syncer.DueUsers(h.ctx, h.store, now.Add(5*time.Hour), time.Hour); len(due) != 0 {
		t.Fatalf("needs-review user scheduled")
	}
}
