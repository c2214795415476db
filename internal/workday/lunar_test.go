package workday

import (
	"math"

	"github.com/dancu-project/dancu/internal/civildate"
)

// Hồ Ngọc Đức's algorithm for the Vietnamese lunar calendar (UTC+7):
// new moons (Meeus, simplified) and the sun's longitude decide the months,
// the month holding the winter solstice is month 11, a year with 13 months
// takes as leap the first month without a major solar term. It lives in the
// tests only: the package reads the table it produced.

func floor(x float64) int { return int(math.Floor(x)) }

func jdFromDate(dd, mm, yy int) int {
	a := (14 - mm) / 12
	y := yy + 4800 - a
	m := mm + 12*a - 3
	return dd + (153*m+2)/5 + 365*y + y/4 - y/100 + y/400 - 32045
}

func jdToDate(jd int) civildate.Date {
	a := jd + 32044
	b := (4*a + 3) / 146097
	c := a - (b*146097)/4
	d := (4*c + 3) / 1461
	e := c - (1461*d)/4
	m := (5*e + 2) / 153
	return civildate.Date{Year: b*100 + d - 4800 + m/10, Month: m + 3 - 12*(m/10), Day: e - (153*m+2)/5 + 1}
}

func newMoon(k float64) float64 {
	T := k / 1236.85
	T2, T3 := T*T, T*T*T
	dr := math.Pi / 180
	jd1 := 2415020.75933 + 29.53058868*k + 0.0001178*T2 - 0.000000155*T3
	jd1 += 0.00033 * math.Sin((166.56+132.87*T-0.009173*T2)*dr)
	M := 359.2242 + 29.10535608*k - 0.0000333*T2 - 0.00000347*T3
	Mpr := 306.0253 + 385.81691806*k + 0.0107306*T2 + 0.00001236*T3
	F := 21.2964 + 390.67050646*k - 0.0016528*T2 - 0.00000239*T3
	C1 := (0.1734-0.000393*T)*math.Sin(M*dr) + 0.0021*math.Sin(2*dr*M)
	C1 = C1 - 0.4068*math.Sin(Mpr*dr) + 0.0161*math.Sin(dr*2*Mpr)
	C1 = C1 - 0.0004*math.Sin(dr*3*Mpr)
	C1 = C1 + 0.0104*math.Sin(dr*2*F) - 0.0051*math.Sin(dr*(M+Mpr))
	C1 = C1 - 0.0074*math.Sin(dr*(M-Mpr)) + 0.0004*math.Sin(dr*(2*F+M))
	C1 = C1 - 0.0004*math.Sin(dr*(2*F-M)) - 0.0006*math.Sin(dr*(2*F+Mpr))
	C1 = C1 + 0.0010*math.Sin(dr*(2*F-Mpr)) + 0.0005*math.Sin(dr*(2*Mpr+M))
	deltat := -0.000278 + 0.000265*T + 0.000262*T2
	if T < -11 {
		deltat = 0.001 + 0.000839*T + 0.0002261*T2 - 0.00000845*T3 - 0.000000081*T*T3
	}
	return jd1 + C1 - deltat
}

func sunLongitude(jdn float64) float64 {
	T := (jdn - 2451545.0) / 36525
	T2 := T * T
	dr := math.Pi / 180
	M := 357.52910 + 35999.05030*T - 0.0001559*T2 - 0.00000048*T*T2
	L0 := 280.46645 + 36000.76983*T + 0.0003032*T2
	DL := (1.914600-0.004817*T-0.000014*T2)*math.Sin(dr*M) + (0.019993-0.000101*T)*math.Sin(dr*2*M) + 0.000290*math.Sin(dr*3*M)
	L := (L0 + DL) * dr
	return L - math.Pi*2*float64(floor(L/(math.Pi*2)))
}

const tz = 7.0

func newMoonDay(k int) int { return floor(newMoon(float64(k)) + 0.5 + tz/24) }

func sunSector(day int) int { return floor(sunLongitude(float64(day)-0.5-tz/24) / math.Pi * 6) }

func lunarMonth11(yy int) int {
	k := floor(float64(jdFromDate(31, 12, yy)-2415021) / 29.530588853)
	nm := newMoonDay(k)
	if sunSector(nm) >= 9 {
		nm = newMoonDay(k - 1)
	}
	return nm
}

func leapMonthOffset(a11 int) int {
	k := floor((float64(a11)-2415021.076998695)/29.530588853 + 0.5)
	i := 1
	arc := sunSector(newMoonDay(k + i))
	for {
		last := arc
		i++
		arc = sunSector(newMoonDay(k + i))
		if arc == last || i >= 14 {
			break
		}
	}
	return i - 1
}

// lunarToSolar converts a day of a regular (not leap) lunar month.
func lunarToSolar(day, month, year int) civildate.Date {
	a11, b11 := lunarMonth11(year-1), lunarMonth11(year)
	if month >= 11 {
		a11, b11 = lunarMonth11(year), lunarMonth11(year+1)
	}
	k := floor(0.5 + (float64(a11)-2415021.076998695)/29.530588853)
	off := (month - 11 + 12) % 12
	if b11-a11 > 365 && off >= leapMonthOffset(a11) {
		off++
	}
	return jdToDate(newMoonDay(k+off) + day - 1)
}
