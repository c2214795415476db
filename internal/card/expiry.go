// Package card holds the rules of the chip identity card (thẻ căn cước) that do
// not belong to one format: its validity under Luật Căn cước 26/2023/QH15.
// The formats live in the sub-packages: qr (the printed QR payload), mrz (the
// ICAO TD1 machine-readable zone), lds (the chip's data groups), sod (the
// signed Document Security Object), pki (the signing keys) and verify
// (passive authentication).
package card

import (
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
)

// RenewalAges are the ages at which a card must be renewed (Art. 21.1).
var RenewalAges = [...]int{14, 25, 40, 60}

// GraceYears is the window before a renewal age in which a card that is
// issued (or renewed) already lasts to the next renewal age (Art. 21.2).
const GraceYears = 2

// Expiry returns the expiry date of a card issued on issue to a person born on
// birth, or lifetime=true when the card never expires (issued at 58 or over,
// i.e. within two years before the last renewal age 60). The expiry is a
// civil date, returned as midnight UTC of that date.
//
// The card expires on the day the holder reaches the next renewal age; a card
// issued in the two years before a renewal age skips it. Ages are completed
// years on the issue day. A birthday of 29 February falls on 28 February in
// common years, following Civil Code 2015 Art. 148 (a period ending in a month
// without the corresponding day ends on that month's last day). A partial
// birth date (year or month unknown) counts from its earliest day, which gives
// the earliest expiry, so a registrar is asked to renew rather than too late.
func Expiry(birth civildate.Date, issue time.Time) (expiry time.Time, lifetime bool) {
	b := birth.Earliest()
	// The issue day is Vietnam's date at the instant of issue: a card made
	// at 00:30 in Hà Nội on a holder's 23rd birthday is issued on that
	// birthday (and runs to 40), though it is still the day before in UTC.
	issueDay := civildate.Of(issue).Earliest()
	for _, age := range RenewalAges {
		// Issued before the day that starts the grace window of this age:
		// the card runs to this age.
		if issueDay.Before(anniversary(b, age-GraceYears)) {
			return anniversary(b, age), false
		}
	}
	return time.Time{}, true
}

// anniversary is the day a person born on b reaches age years.
func anniversary(b time.Time, years int) time.Time {
	y := b.Year() + years
	m, d := b.Month(), b.Day()
	if m == time.February && d == 29 && !leap(y) {
		d = 28
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// LifetimeVerifyYears is how long after its issue a lifetime card's chip
// must still verify. A lifetime card never expires, but its SOD signature
// is checked against a document-signer certificate that does; we bound the
// card's verification life by its youngest possible holder: issued at 58,
// verifying to the holder's 120th birthday, 62 years. Every other card
// verifies until its expiry, at most 22 years after issue (issued at 38,
// valid to 60), so this is the longest any card must verify, and a DS
// certificate valid for its key usage period plus this many years covers
// every card it signs (package pki).
const LifetimeVerifyYears = 120 - (60 - GraceYears)

// VerifyUntil is the last civil day on which a card issued at the instant
// issue to a person born on birth must still verify: its expiry, or for a
// lifetime card the issue day plus LifetimeVerifyYears.
func VerifyUntil(birth civildate.Date, issue time.Time) civildate.Date {
	exp, lifetime := Expiry(birth, issue)
	if lifetime {
		d := civildate.Of(issue)
		return civildate.Of(anniversary(d.Earliest(), LifetimeVerifyYears).Add(12 * time.Hour))
	}
	return civildate.Date{Year: exp.Year(), Month: int(exp.Month()), Day: exp.Day()}
}
