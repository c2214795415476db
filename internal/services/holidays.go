package services

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/workday"
)

// Administrators' holiday overrides: a year's days off and make-up working
// days stored in the database (holiday_overrides) and applied to the
// working-day calendar of every node (workday.Calendar.Override): this
// node's own edits at once, another node's within holidayFollow.

// ErrHolidayYear answers a year without a calendar or an override.
var ErrHolidayYear = fault.New(fault.NotFound, "holiday.year_not_found", "Không có lịch ngày nghỉ của năm này.", "No holiday calendar for this year.")

// holidayFollow is how often a node reads the overrides other nodes stored.
const holidayFollow = 10 * time.Second

// HolidayYear returns the list of days off and make-up working days in
// force for year (an administrator's override, else the official or
// rule-computed year). Public: the calendar is public law.
func (s *Service) HolidayYear(year int) (workday.Year, error) {
	y, ok := s.d.Calendar.Year(year)
	if !ok {
		return workday.Year{}, ErrHolidayYear
	}
	if y.Off == nil {
		y.Off = []workday.Day{}
	}
	if y.Work == nil {
		y.Work = []workday.Day{}
	}
	return y, nil
}

// PutHolidays stores an administrator's list for y.Year, replacing the
// year in force on every node. Only a national platform administrator may
// (checked first); the list is checked as the shipped file is (dates in
// the year, make-up days on weekends, no date twice); it is audited.
func (s *Service) PutHolidays(ctx context.Context, a actor.Actor, y workday.Year) (workday.Year, error) {
	if !a.Can(actor.ManagePlatform) {
		return workday.Year{}, ErrForbidden
	}
	y.Status = workday.StatusOverride
	if y.Source == "" {
		y.Source = "override by " + a.ID
	}
	if err := y.Check(); err != nil {
		return workday.Year{}, err
	}
	body, err := json.Marshal(y)
	if err != nil {
		return workday.Year{}, fmt.Errorf("services: encode holidays: %w", err)
	}
	now := s.d.Now().UTC()
	err = s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO holiday_overrides (year, body, updated_at, updated_by) VALUES ($1, $2, $3, $4)
			ON CONFLICT (year) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			y.Year, string(body), ts(now), a.ID)
		return err
	})
	if err != nil {
		return workday.Year{}, fmt.Errorf("services: store holidays %d: %w", y.Year, err)
	}
	if err := s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "holidays.put", Subject: "holidays:" + strconv.Itoa(y.Year), Purpose: "calendar",
		Detail: fmt.Sprintf("off=%d work=%d", len(y.Off), len(y.Work))}); err != nil {
		return workday.Year{}, err
	}
	if err := s.LoadHolidays(ctx); err != nil {
		return workday.Year{}, err
	}
	return s.HolidayYear(y.Year)
}

// ResetHolidays removes the override of year: the official or computed
// year is in force again. Platform administrators only; audited.
func (s *Service) ResetHolidays(ctx context.Context, a actor.Actor, year int) error {
	if !a.Can(actor.ManagePlatform) {
		return ErrForbidden
	}
	res, err := s.d.DB.W.ExecContext(ctx, `DELETE FROM holiday_overrides WHERE year = $1`, year)
	if err != nil {
		return fmt.Errorf("services: reset holidays: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrHolidayYear
	}
	if err := s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "holidays.reset", Subject: "holidays:" + strconv.Itoa(year), Purpose: "calendar"}); err != nil {
		return err
	}
	return s.LoadHolidays(ctx)
}

// LoadHolidays applies the stored overrides to the calendar. A stored year
// the calendar refuses (written by a newer version, or by hand) is left out
// and reported; the others apply.
func (s *Service) LoadHolidays(ctx context.Context) error {
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT year, body FROM holiday_overrides ORDER BY year`)
	if err != nil {
		return fmt.Errorf("services: read holidays: %w", err)
	}
	defer rows.Close()
	var years []workday.Year
	var bad []error
	for rows.Next() {
		var year int
		var body string
		if err := rows.Scan(&year, &body); err != nil {
			return fmt.Errorf("services: read holidays: %w", err)
		}
		var y workday.Year
		if err := json.Unmarshal([]byte(body), &y); err != nil || y.Year != year || y.Check() != nil {
			bad = append(bad, fmt.Errorf("holiday override %d is not valid", year))
			continue
		}
		years = append(years, y)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("services: read holidays: %w", err)
	}
	if err := s.d.Calendar.Override(years...); err != nil {
		return fmt.Errorf("services: apply holidays: %w", err)
	}
	return errors.Join(bad...)
}

// FollowHolidays applies the overrides now and every holidayFollow until
// ctx ends, so an administrator's edit on one node reaches this one.
func (s *Service) FollowHolidays(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(holidayFollow)
	defer t.Stop()
	for {
		if err := s.LoadHolidays(ctx); err != nil && ctx.Err() == nil {
			log.Warn("holiday overrides", "code", "holiday.load_failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
