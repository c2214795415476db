package bundle_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/bundle"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBirthBundle files b.N birth bundles at once (8 filers) with the
// insurance simulator answering at once over real HTTP, and waits until
// every bundle has completed: bundles/s from the first filing to the last
// completion, the median and 95th percentile of one bundle's end-to-end
// time (filed → last step done), and the process's CPU per bundle (the
// platform, the simulator and the test in one process). Run with
// -benchtime=100x.
func BenchmarkBirthBundle(b *testing.B) {
	for _, d := range storagetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			env := apptest.Start(b, d, 4000)
			partners(b, env, 0, 0, 0)
			ms := mothers(b, env, b.N)
			cert := certificate(b)
			s := env.App.Bundles
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			var wg sync.WaitGroup
			work := make(chan int)
			errs := make(chan error, b.N)
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range work {
						_, err := s.FileBirth(ctx, bundle.Filer{PIN: ms[i], Level: 2}, bundle.BirthForm{Relation: "mother", ChildName: "Phạm Minh " + givenNames[i%len(givenNames)],
							ChildBirthDate: daysAgo(1).String(), ChildSex: "M", Birthplace: "Bệnh viện", Certificate: cert, IdempotencyKey: fmt.Sprintf("bench-%06d", i)})
						if err != nil {
							errs <- err
						}
					}
				}()
			}
			for i := range b.N {
				work <- i
			}
			close(work)
			wg.Wait()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			counts := settle(b, s, b.N, 10*time.Minute)
			elapsed, cpu := time.Since(start), cpuTime()-cpu0
			b.StopTimer()
			if counts[bundle.Completed] != b.N {
				b.Fatalf("outcomes %v", counts)
			}
			var lat []time.Duration
			for _, m := range ms[:b.N] {
				bs, err := s.Mine(ctx, m)
				if err != nil || len(bs) != 1 {
					b.Fatalf("bundles of %s: %d %v", m, len(bs), err)
				}
				lat = append(lat, bs[0].Updated.Sub(bs[0].FiledAt))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "bundles/s")
			b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "ms-p50/bundle")
			b.ReportMetric(float64(lat[len(lat)*95/100].Milliseconds()), "ms-p95/bundle")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/bundle")
		})
	}
}

var _ = apptest.Password
