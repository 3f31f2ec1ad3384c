package syncjobs_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/addin/syncjobs"
)

type engineWorker struct {
	river.WorkerDefaults[syncjobs.RunArgs]
}

func (*engineWorker) Work(context.Context, *river.Job[syncjobs.RunArgs]) error { return nil }

func TestFallbackYieldsToTheEngine(t *testing.T) {
	w := river.NewWorkers()
	river.AddWorker(w, &engineWorker{})
	syncjobs.RegisterFallback(w) // must not panic on the duplicate kind

	empty := river.NewWorkers()
	syncjobs.RegisterFallback(empty)
	syncjobs.RegisterFallback(empty)
}

func TestRunArgsWireFormat(t *testing.T) {
	b, _ := json.Marshal(syncjobs.RunArgs{UserID: 7, Trigger: syncjobs.TriggerMonitor})
	if string(b) != `{"userId":7,"trigger":"monitor"}` || (syncjobs.RunArgs{}).Kind() != "sync.run" {
		t.Fatalf("%s", b)
	}
}
