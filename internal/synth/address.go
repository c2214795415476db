package synth

import "strconv"

// Synthetic address details ("Số 12, ngõ 34, đường Lê Lợi", "Thôn 3",
// "Ấp Tân Hòa", "Bản Nà Hẩu"...). Street and hamlet names are common
// Vietnamese place-name elements combined at random; they do not point to
// real dwellings.

const (
	ruralThon = iota
	ruralXom
	ruralBan
	ruralAp
	ruralBuon
	nRuralKinds
)

const (
	urbanNorth   = iota // ngõ, tổ
	urbanCentral        // kiệt, tổ
	urbanSouth          // hẻm, khu phố
)

type addrProfile struct {
	urban     float64
	rural     [nRuralKinds]float64
	urbanKind uint8
}

// addrProfiles: rough urban share and hamlet naming customs by post-2025
// province. Unknown provinces get a default derived from the code.
var addrProfiles = map[string]addrProfile{
	"01": {0.5, [nRuralKinds]float64{0.6, 0.4, 0, 0, 0}, urbanNorth},
	"04": {0.2, [nRuralKinds]float64{0.3, 0.2, 0.5, 0, 0}, urbanNorth},
	"08": {0.2, [nRuralKinds]float64{0.4, 0.2, 0.4, 0, 0}, urbanNorth},
	"11": {0.2, [nRuralKinds]float64{0.2, 0.1, 0.7, 0, 0}, urbanNorth},
	"12": {0.2, [nRuralKinds]float64{0.2, 0.1, 0.7, 0, 0}, urbanNorth},
	"14": {0.2, [nRuralKinds]float64{0.2, 0.1, 0.7, 0, 0}, urbanNorth},
	"15": {0.25, [nRuralKinds]float64{0.4, 0.2, 0.4, 0, 0}, urbanNorth},
	"19": {0.35, [nRuralKinds]float64{0.3, 0.6, 0.1, 0, 0}, urbanNorth},
	"20": {0.25, [nRuralKinds]float64{0.4, 0.2, 0.4, 0, 0}, urbanNorth},
	"22": {0.65, [nRuralKinds]float64{0.8, 0.1, 0.1, 0, 0}, urbanNorth},
	"24": {0.4, [nRuralKinds]float64{0.7, 0.3, 0, 0, 0}, urbanNorth},
	"25": {0.3, [nRuralKinds]float64{0.4, 0.5, 0.1, 0, 0}, urbanNorth},
	"31": {0.5, [nRuralKinds]float64{0.7, 0.3, 0, 0, 0}, urbanNorth},
	"33": {0.3, [nRuralKinds]float64{0.6, 0.4, 0, 0, 0}, urbanNorth},
	"37": {0.3, [nRuralKinds]float64{0.6, 0.4, 0, 0, 0}, urbanNorth},
	"38": {0.25, [nRuralKinds]float64{0.6, 0.3, 0.1, 0, 0}, urbanNorth},
	"40": {0.25, [nRuralKinds]float64{0.3, 0.6, 0.1, 0, 0}, urbanNorth},
	"42": {0.25, [nRuralKinds]float64{0.6, 0.4, 0, 0, 0}, urbanNorth},
	"44": {0.3, [nRuralKinds]float64{0.8, 0.1, 0.1, 0, 0}, urbanCentral},
	"46": {0.55, [nRuralKinds]float64{0.9, 0.1, 0, 0, 0}, urbanCentral},
	"48": {0.6, [nRuralKinds]float64{0.9, 0.05, 0, 0, 0.05}, urbanCentral},
	"51": {0.25, [nRuralKinds]float64{0.8, 0, 0, 0, 0.2}, urbanCentral},
	"52": {0.35, [nRuralKinds]float64{0.6, 0, 0, 0, 0.4}, urbanCentral},
	"56": {0.45, [nRuralKinds]float64{0.9, 0, 0, 0, 0.1}, urbanCentral},
	"66": {0.3, [nRuralKinds]float64{0.5, 0, 0, 0, 0.5}, urbanCentral},
	"68": {0.35, [nRuralKinds]float64{0.7, 0, 0, 0, 0.3}, urbanSouth},
	"75": {0.45, [nRuralKinds]float64{0, 0, 0, 1, 0}, urbanSouth},
	"79": {0.8, [nRuralKinds]float64{0, 0, 0, 1, 0}, urbanSouth},
	"80": {0.3, [nRuralKinds]float64{0, 0, 0, 1, 0}, urbanSouth},
	"82": {0.3, [nRuralKinds]float64{0, 0, 0, 1, 0}, urbanSouth},
	"86": {0.3, [nRuralKinds]float64{0, 0, 0, 1, 0}, urbanSouth},
	"91": {0.35, [nRuralKinds]float64{0, 0, 0, 1, 0}, urbanSouth},
	"92": {0.45, [nRuralKinds]float64{0, 0, 0, 1, 0}, urbanSouth},
	"96": {0.3, [nRuralKinds]float64{0, 0, 0, 1, 0}, urbanSouth},
}

func defaultAddrProfile(code int) addrProfile {
	switch {
	case code < 44:
		return addrProfile{0.3, [nRuralKinds]float64{0.6, 0.4, 0, 0, 0}, urbanNorth}
	case code < 70:
		return addrProfile{0.35, [nRuralKinds]float64{0.9, 0, 0, 0, 0.1}, urbanCentral}
	}
	return addrProfile{0.35, [nRuralKinds]float64{0, 0, 0, 1, 0}, urbanSouth}
}

var streets = [...]string{
	"Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung", "Hùng Vương",
	"Lê Duẩn", "Nguyễn Huệ", "Phan Chu Trinh", "Phan Bội Châu", "Điện Biên Phủ", "Võ Thị Sáu", "Hoàng Diệu",
	"Trần Phú", "Nguyễn Du", "Lê Lai", "Bà Triệu", "Lê Thánh Tông", "Nguyễn Văn Cừ", "Trường Chinh",
	"Lạc Long Quân", "Âu Cơ", "Ngô Quyền", "Đinh Tiên Hoàng", "Lý Thái Tổ", "Trần Quốc Toản", "Nguyễn Thái Học",
	"Tôn Đức Thắng", "Cách Mạng Tháng Tám", "Nguyễn Văn Linh", "Phạm Văn Đồng", "Võ Văn Kiệt", "Lê Hồng Phong",
	"Nguyễn Chí Thanh", "Hoàng Văn Thụ", "Lê Văn Sỹ", "Nguyễn Thị Minh Khai", "Pasteur", "Yersin",
	"Chu Văn An", "Nguyễn Khuyến", "Trần Nhân Tông", "Lê Quý Đôn", "Nguyễn Đình Chiểu", "Hàm Nghi",
	"Phan Đình Phùng", "Nguyễn Trung Trực", "Trương Định", "Thống Nhất", "Độc Lập", "Giải Phóng",
	"Hòa Bình", "Bạch Đằng", "Hồ Tùng Mậu", "Tô Hiến Thành", "Lý Tự Trọng", "Nguyễn An Ninh",
	"Mạc Đĩnh Chi", "Kim Đồng",
}

var (
	banFirst  = [...]string{"Nà", "Pác", "Khuổi", "Phiêng", "Co", "Huổi", "Nậm", "Tà", "Lũng", "Pá", "Hua", "Bó"}
	banSecond = [...]string{"Mò", "Lẹng", "Cưởm", "Hẩu", "Chang", "Khoang", "Sảng", "Cáy", "Pục", "Lầu", "Tông",
		"Vạc", "Ngòi", "Phai", "Làng"}
	apFirst  = [...]string{"Tân", "Phú", "An", "Bình", "Long", "Thạnh", "Hòa", "Hưng", "Mỹ", "Thới", "Vĩnh", "Phước"}
	apSecond = [...]string{"Lợi", "Hòa", "Thạnh", "Phú", "Đông", "Tây", "Trung", "Hưng", "Thành", "Điền", "Quới",
		"An", "Lộc", "Khánh"}
	buonNames = [...]string{"Buôn Ko Tam", "Buôn Đôn", "Buôn Triết", "Buôn Ea Nao", "Buôn Kô Sir",
		"Buôn Cuôr Đăng", "Buôn Jun", "Buôn Trấp", "Buôn Tơ Lơ", "Làng Kon Klor", "Làng Kon Kơ Tu",
		"Làng Plei Ốp", "Làng Đê Tar", "Làng Tơ Nung", "Làng Ia Băng", "Làng Plei Me"}
)

// addrTables holds precomputed (interned) short addresses.
type addrTables struct {
	thon, xom, to, khuPho, apNum []string
	ban, apName                  []string
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i+1)
	}
	return out
}

var addr = func() *addrTables {
	t := &addrTables{
		thon:   numbered("Thôn ", 30),
		xom:    numbered("Xóm ", 25),
		to:     numbered("Tổ ", 80),
		khuPho: numbered("Khu phố ", 15),
		apNum:  numbered("Ấp ", 15),
	}
	for _, a := range banFirst {
		for _, b := range banSecond {
			t.ban = append(t.ban, "Bản "+a+" "+b)
		}
	}
	for _, a := range apFirst {
		for _, b := range apSecond {
			if a != b {
				t.apName = append(t.apName, "Ấp "+a+" "+b)
			}
		}
	}
	return t
}()

// smallNum draws a positive number skewed towards small values, < max.
func smallNum(r *rng, max int) int {
	u := r.float()
	return 1 + int(float64(max-1)*u*u)
}

// address draws an address detail for a household in an area with profile p.
func (g *gen) address(p *addrProfile, rural cumTable) string {
	r := g.r
	if r.chance(p.urban) {
		u := r.float()
		b := g.buf[:0]
		switch p.urbanKind {
		case urbanSouth:
			switch {
			case u < 0.15:
				return addr.khuPho[r.intn(len(addr.khuPho))]
			case u < 0.5:
				b = append(b, "Số "...)
				b = strconv.AppendInt(b, int64(smallNum(r, 200)), 10)
				b = append(b, ", hẻm "...)
				b = strconv.AppendInt(b, int64(smallNum(r, 600)), 10)
				b = append(b, ", đường "...)
			case u < 0.75:
				b = append(b, "Số "...)
				b = strconv.AppendInt(b, int64(smallNum(r, 600)), 10)
				b = append(b, '/')
				b = strconv.AppendInt(b, int64(smallNum(r, 80)), 10)
				b = append(b, " đường "...)
			default:
				b = append(b, "Số "...)
				b = strconv.AppendInt(b, int64(smallNum(r, 800)), 10)
				b = append(b, " đường "...)
			}
		default:
			lane := ", ngõ "
			if p.urbanKind == urbanCentral {
				lane = ", kiệt "
			}
			switch {
			case u < 0.25:
				return addr.to[r.intn(len(addr.to))]
			case u < 0.6:
				b = append(b, "Số "...)
				b = strconv.AppendInt(b, int64(smallNum(r, 150)), 10)
				b = append(b, lane...)
				b = strconv.AppendInt(b, int64(smallNum(r, 400)), 10)
				b = append(b, ", đường "...)
			case u < 0.75:
				b = append(b, "Số "...)
				b = strconv.AppendInt(b, int64(smallNum(r, 60)), 10)
				b = append(b, lane...)
				b = strconv.AppendInt(b, int64(smallNum(r, 400)), 10)
				b = append(b, '/')
				b = strconv.AppendInt(b, int64(smallNum(r, 60)), 10)
				b = append(b, ", đường "...)
			default:
				b = append(b, "Số "...)
				b = strconv.AppendInt(b, int64(smallNum(r, 500)), 10)
				b = append(b, " đường "...)
			}
		}
		b = append(b, streets[r.intn(len(streets))]...)
		g.buf = b
		return string(b)
	}
	switch rural.pick(r.float()) {
	case ruralXom:
		return addr.xom[smallNum(r, len(addr.xom)+1)-1]
	case ruralBan:
		return addr.ban[r.intn(len(addr.ban))]
	case ruralAp:
		if r.chance(0.5) {
			return addr.apNum[smallNum(r, len(addr.apNum)+1)-1]
		}
		return addr.apName[r.intn(len(addr.apName))]
	case ruralBuon:
		return buonNames[r.intn(len(buonNames))]
	}
	return addr.thon[smallNum(r, len(addr.thon)+1)-1]
}
