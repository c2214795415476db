package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/partnercopy"
	"github.com/dancu-project/dancu/internal/platform"
)

// partnerCopyFlags are the flags of "dancu seed --partner-copy FILE".
type partnerCopyFlags struct {
	file string
	rows int
}

func (f *partnerCopyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "partner-copy", "", "instead of seeding, write a dirty partner copy of a sample of the register to this CSV file, with the truth beside it (FILE.truth.csv); --seed picks the sample")
	fs.IntVar(&f.rows, "rows", 10000, "rows of the partner copy (with --partner-copy)")
}

// partnerCopyCmd samples the existing register into a dirty partner file and
// its truth file.
func partnerCopyCmd(ctx context.Context, cfg platform.Config, f partnerCopyFlags, stdout, stderr io.Writer) error {
	if f.rows <= 0 {
		return fmt.Errorf("--rows must be positive")
	}
	svc, err := app.OpenServices(ctx, cfg, cfg.Logger(stderr), time.Now)
	if err != nil {
		return err
	}
	defer svc.Close()
	units, err := adminunit.Load()
	if err != nil {
		return err
	}
	s, err := partnercopy.Run(ctx, svc.DB, units, svc.Audit, f.file, partnercopy.Options{Rows: f.rows, Seed: cfg.Seed, Now: time.Now()})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d rows to %s (%d from the register, %d of them dead, %d not in the register, %d duplicates, %d with dirt); truth in %s\n",
		s.Rows, s.File, s.FromRegister, s.Dead, s.NotInRegister, s.Duplicates, s.Dirty, s.TruthFile)
	return nil
}
