// Package adminunit is the versioned catalogue of Vietnam's administrative units.
//
// Two maps are known. Until 30 June 2025 the country had three levels: 63
// provinces (tỉnh, thành phố), 696 districts (quận, huyện, thị xã, thành phố
// thuộc tỉnh) and about ten thousand communes (xã, phường, thị trấn). From
// 1 July 2025 (Resolution 202/2025/QH15, see [Reform]) it has two: 34 provinces
// and 3,321 communes (xã, phường, đặc khu). Codes were reused across the
// reform — 00004 was "Phường Trúc Bạch" and is now "Phường Ba Đình" — so a unit
// is identified by its code together with a date, never by the code alone.
//
// The catalogue answers "what did this code mean on that day", "what is that
// old address called now" ([Catalog.Current]) and "which old units made up
// this one" ([Catalog.Predecessors]); it also searches names typed with or
// without diacritics.
//
// Dates are calendar dates: a [time.Time] is read through its own Date(), so
// 2025-07-01 00:00 in Asia/Ho_Chi_Minh is on the new map although it is still
// 30 June in UTC.
//
// # Source
//
// The data, embedded from data/, is the General Statistics Office's
// administrative division catalogue (state of 4 January 2025) and the official
// conversion table for the reorganisation of 1 July 2025; data/SOURCE.md
// describes both files, and data/successors-missing-2025.csv, written for
// this product, places the old communes the conversion table does not
// mention. The official files are kept byte for byte as published: every
// repair needed to use them (spelling, stray spaces, mistyped old codes) is
// made by the loader and described in load.go.
package adminunit
