package audit

import (
	"testing"
	"time"
)

func TestIndexerRests(t *testing.T) {
	ix := &Indexer{Interval: 400 * time.Millisecond, CompactionShare: 0.25}
	for _, c := range []struct {
		did   stepKind
		took  time.Duration
		share float64
		want  time.Duration
	}{
		{built, 20 * time.Millisecond, 0.25, 0},                         // new entries: at once, the tail stays short
		{compacted, 10 * time.Millisecond, 0.25, 30 * time.Millisecond}, // a quarter of the writer's time
		{compacted, 10 * time.Millisecond, 0.5, 10 * time.Millisecond},
		{compacted, 10 * time.Millisecond, 0, 0}, // no share set: back to back
		{compacted, 10 * time.Millisecond, 1, 0},
		{idle, 0, 0.25, 100 * time.Millisecond},
	} {
		ix.CompactionShare = c.share
		if got := ix.rest(c.did, c.took); got != c.want {
			t.Errorf("rest(%v, %s) with share %v = %s, want %s", c.did, c.took, c.share, got, c.want)
		}
	}
}
