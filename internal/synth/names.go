package synth

// Name tables. All strings are precomposed Unicode (NFC). Shares are
// approximations of commonly cited figures; the long tails are invented but
// plausible.

// kinhSurnames: share (percent) in the north (provinces up to Huế) and in
// the south (Đà Nẵng and below). Hoàng/Huỳnh and Vũ/Võ are the same names,
// the second forms being mostly southern; the regional splits are set so
// that, with the north/south split of PopulationWeights (about 46/54), the
// national shares come out near Hoàng 3 %, Huỳnh 2.1 %, Vũ 2 %, Võ 1.9 %.
var kinhSurnames = []struct {
	name         string
	north, south float64
}{
	{"Nguyễn", 38.4, 38.4},
	{"Trần", 11, 11},
	{"Lê", 9.5, 9.5},
	{"Phạm", 7.1, 7.1},
	{"Hoàng", 5.9, 0.5},
	{"Huỳnh", 0.2, 3.75},
	{"Phan", 4.5, 4.5},
	{"Vũ", 4.0, 0.3},
	{"Võ", 0.5, 3.1},
	{"Đặng", 2.1, 2.1},
	{"Bùi", 2.0, 2.0},
	{"Đỗ", 1.4, 1.4},
	{"Hồ", 1.3, 1.3},
	{"Ngô", 1.3, 1.3},
	{"Dương", 1.0, 1.0},
	{"Lý", 0.5, 0.5},
}

// restSurnames share the remaining ~10.9 % in these relative proportions.
var restSurnames = []wstr{
	{"Đinh", 7.5}, {"Trịnh", 6}, {"Đào", 6}, {"Mai", 5}, {"Lâm", 4.5}, {"Hà", 5}, {"Tô", 3},
	{"Cao", 4.5}, {"Lương", 4.5}, {"Trương", 5}, {"Chu", 2.5}, {"Tạ", 3}, {"Lưu", 3}, {"Quách", 1.5},
	{"Kiều", 1.5}, {"Văn", 2}, {"Thái", 2.5}, {"Tăng", 1.5}, {"Triệu", 2}, {"Doãn", 1}, {"Khúc", 0.5},
	{"La", 1.5}, {"Phùng", 2.5}, {"Lại", 2}, {"Đoàn", 4}, {"Vương", 2}, {"Châu", 2.5}, {"Từ", 1},
	{"Tôn", 1}, {"Hứa", 1}, {"Mạc", 1}, {"Lạc", 0.5}, {"Âu", 1}, {"Giang", 1}, {"Kim", 1},
	{"Nghiêm", 1}, {"Thân", 1}, {"Tống", 1}, {"Đàm", 1}, {"Diệp", 0.5}, {"Bạch", 0.5}, {"Ninh", 0.5},
	{"Lục", 0.5}, {"Quan", 0.5}, {"Ông", 0.5}, {"Phí", 0.5}, {"Đồng", 1}, {"Tiêu", 0.5}, {"Mạnh", 0.5},
	{"Khổng", 0.5}, {"Nông", 1}, {"Vi", 0.5}, {"Hầu", 0.5}, {"Thạch", 0.5}, {"Ứng", 0.3}, {"Trang", 0.3},
	{"Lò", 0.3}, {"Cù", 0.5}, {"Lã", 0.5}, {"Lều", 0.2}, {"Khương", 0.5}, {"Viên", 0.3}, {"Sầm", 0.2},
}

const restSurnameShare = 10.9

// Middle names by sex and birth cohort (born before 1975, 1975–1989, from
// 1990). "Văn"/"Thị" dominate older cohorts and fade for younger ones.
type cohortW struct {
	s          string
	w0, w1, w2 float64
}

var maleMiddles = []cohortW{
	{"Văn", 70, 50, 22}, {"Đức", 5, 7, 9}, {"Hữu", 5, 6, 5}, {"Minh", 3, 6, 12}, {"Quang", 3, 5, 8},
	{"Ngọc", 3, 3, 2}, {"Xuân", 3, 3, 2}, {"Công", 3, 3, 3}, {"Đình", 3, 4, 4}, {"Thanh", 3, 5, 6},
	{"Mạnh", 1, 2, 3}, {"Quốc", 2, 3, 5}, {"Trọng", 1, 2, 3}, {"Hoàng", 1, 2, 5}, {"Gia", 0, 0.5, 5},
	{"Bảo", 0, 0.5, 5}, {"Tuấn", 0.5, 1, 2}, {"Anh", 0.5, 1, 3}, {"Trung", 1, 1, 2}, {"Duy", 0.5, 1, 3},
	{"Nhật", 0, 0.5, 3}, {"Khánh", 0, 0.5, 2}, {"Tiến", 1, 1, 1.5}, {"Hải", 0.5, 1, 2}, {"Thế", 1, 1.5, 1.5},
}

var femaleMiddles = []cohortW{
	{"Thị", 85, 70, 35}, {"Ngọc", 3, 5, 10}, {"Thu", 2, 4, 6}, {"Thanh", 2, 4, 6}, {"Phương", 0.5, 1.5, 5},
	{"Minh", 0.5, 1.5, 6}, {"Bảo", 0, 0.5, 6}, {"Khánh", 0, 0.5, 5}, {"Hoài", 0.5, 1, 3}, {"Kim", 2, 2.5, 3},
	{"Hồng", 2, 2, 2}, {"Bích", 1.5, 1.5, 1.5}, {"Thúy", 1, 1.5, 2}, {"Mỹ", 1, 1.5, 3}, {"Diệu", 0.3, 0.5, 2},
	{"Hải", 0.3, 0.5, 2}, {"Gia", 0, 0.2, 3}, {"Tuyết", 1, 0.5, 0.3}, {"Quỳnh", 0.3, 1, 3}, {"Hà", 0.2, 0.5, 2},
	{"Lan", 0.5, 0.5, 1}, {"Như", 0.2, 0.5, 2}, {"Tường", 0, 0.2, 1.5},
}

// Second middle names for four-word names ("Nguyễn Thị Ngọc Anh",
// "Trần Văn Quốc Huy", "Lê Hoàng Gia Bảo").
var maleSecondMiddles = []wstr{
	{"Minh", 5}, {"Quốc", 4}, {"Đức", 4}, {"Hoàng", 3}, {"Thanh", 3}, {"Tuấn", 2}, {"Gia", 4}, {"Bảo", 3},
	{"Anh", 2}, {"Nhật", 2}, {"Đăng", 2}, {"Thành", 1}, {"Hữu", 1}, {"Khánh", 1},
}
var femaleSecondMiddles = []wstr{
	{"Ngọc", 8}, {"Thu", 6}, {"Thanh", 6}, {"Kim", 5}, {"Hồng", 4}, {"Bích", 3}, {"Thúy", 3}, {"Mỹ", 3},
	{"Minh", 3}, {"Phương", 3}, {"Hoài", 2}, {"Diệu", 2}, {"Như", 2}, {"Tuyết", 1}, {"Hải", 2}, {"Khánh", 2},
	{"Bảo", 2}, {"Quỳnh", 2}, {"Lan", 1},
}

// Given names: weight for people born before 1985 and from 1985.
type eraW struct {
	s          string
	old, young float64
}

var maleGiven = []eraW{
	{"An", 2, 4}, {"Anh", 3, 6}, {"Bảo", 1, 5}, {"Bình", 4, 2}, {"Cường", 4, 2}, {"Dũng", 5, 2}, {"Đạt", 2, 4},
	{"Đức", 4, 4}, {"Hải", 5, 3}, {"Hiếu", 2, 4}, {"Hoàng", 2, 4}, {"Hùng", 6, 2}, {"Huy", 2, 6},
	{"Khang", 0.3, 4}, {"Khoa", 0.5, 4}, {"Khôi", 0.3, 4}, {"Long", 3, 4}, {"Minh", 3, 6}, {"Nam", 4, 4},
	{"Nghĩa", 3, 2}, {"Phong", 2, 3}, {"Phúc", 1, 4}, {"Quân", 1, 5}, {"Quang", 3, 3}, {"Sơn", 5, 2},
	{"Tài", 2, 2}, {"Thắng", 5, 2}, {"Thành", 5, 3}, {"Tiến", 4, 2}, {"Toàn", 3, 2}, {"Trung", 4, 2},
	{"Tuấn", 5, 4}, {"Việt", 2, 3}, {"Vinh", 3, 2}, {"Hưng", 3, 3}, {"Lâm", 1, 3}, {"Thịnh", 1, 2},
	{"Tùng", 3, 2}, {"Hòa", 3, 1}, {"Lợi", 2, 0.5}, {"Phát", 1, 3}, {"Kiên", 2, 2}, {"Tân", 2, 1},
	{"Chiến", 3, 1}, {"Thanh", 3, 1}, {"Hậu", 2, 1}, {"Nhân", 1, 2}, {"Vũ", 1, 3}, {"Dương", 1, 3},
	{"Khánh", 1, 3}, {"Thái", 1, 1}, {"Duy", 1, 3}, {"Tâm", 2, 1}, {"Lộc", 1, 2}, {"Đông", 2, 1},
	{"Hiệp", 2, 1}, {"Thuận", 2, 1}, {"Bách", 0, 1}, {"Thiện", 1, 2}, {"Trí", 1, 2}, {"Công", 2, 0.5},
	{"Quý", 1, 0.5}, {"Sang", 1, 1}, {"Tú", 1, 1}, {"Nguyên", 1, 3}, {"Kiệt", 0.2, 2}, {"Mạnh", 2, 1},
	{"Hạnh", 1, 0.2}, {"Thông", 1.5, 0.5}, {"Lực", 1.5, 0.5},
}

var femaleGiven = []eraW{
	{"Anh", 2, 7}, {"Châu", 1, 3}, {"Chi", 1, 4}, {"Dung", 4, 1}, {"Giang", 2, 2}, {"Hà", 3, 3},
	{"Hạnh", 3, 2}, {"Hằng", 4, 3}, {"Hiền", 4, 2}, {"Hoa", 5, 1}, {"Hồng", 4, 1}, {"Hương", 6, 3},
	{"Huyền", 3, 3}, {"Lan", 5, 2}, {"Linh", 2, 7}, {"Loan", 3, 1}, {"Mai", 4, 3}, {"My", 1, 4},
	{"Nga", 4, 1}, {"Ngân", 1, 4}, {"Ngọc", 2, 4}, {"Nhung", 4, 1}, {"Oanh", 3, 1}, {"Phương", 3, 4},
	{"Quỳnh", 1, 4}, {"Thảo", 2, 6}, {"Thu", 4, 1}, {"Thủy", 5, 2}, {"Trang", 2, 6}, {"Tuyết", 3, 0.5},
	{"Vân", 4, 2}, {"Vy", 0.3, 5}, {"Yến", 4, 2}, {"Liên", 3, 1}, {"Lệ", 2, 0.5}, {"Thơm", 2, 0.2},
	{"Xuân", 3, 1}, {"Nhi", 0.3, 5}, {"Hân", 0, 4}, {"Trâm", 0.5, 3}, {"Uyên", 0.5, 3}, {"Tâm", 2, 1},
	{"Hậu", 2, 0.5}, {"Liễu", 2, 0.3}, {"Nguyệt", 2, 1}, {"Thắm", 2, 0.5}, {"Lý", 2, 0.3}, {"Cúc", 2, 0.1},
	{"Đào", 2, 0.3}, {"Lụa", 1.5, 0.1}, {"Hường", 2, 0.5}, {"Ánh", 2, 2}, {"Diễm", 1, 2}, {"Hạ", 0.2, 2},
	{"Khuê", 0.2, 1}, {"Tiên", 0.5, 2}, {"An", 0.3, 3}, {"Thư", 0.5, 4}, {"Ly", 0.5, 3}, {"Trinh", 2, 2},
	{"Duyên", 2, 2}, {"Thoa", 2, 0.5}, {"Sen", 1.5, 0.2}, {"Hòa", 1.5, 0.3},
}

// nameStyle describes naming customs of an ethnic group that differ from
// the Kinh pattern. A nil table means "use the Kinh table".
type nameStyle struct {
	pOwnSurname float64
	surnames    []wstr
	maleMid     []wstr // may contain "" (no middle name)
	femaleMid   []wstr
	pOwnGiven   float64
	maleGiven   []wstr
	femaleGiven []wstr
}

// ethnicNameStyles: surnames and names typical of the larger minority
// groups (clan names of the Hmông, Thái and Tày–Nùng surnames, Khmer and
// Jrai names...). Approximate; groups without an entry use Kinh-style names.
// pOwnSurname is kept moderate because many minority families do carry the
// common surnames (Nguyễn, Hoàng, Lý...), and because the published shares
// of the 16 main surnames (89 % of all people) leave little room for others.
var ethnicNameStyles = map[int]*nameStyle{
	eHmong: {
		pOwnSurname: 0.9,
		surnames: []wstr{{"Giàng", 18}, {"Sùng", 14}, {"Thào", 12}, {"Vàng", 12}, {"Lý", 10}, {"Mùa", 7},
			{"Hầu", 5}, {"Lầu", 5}, {"Vừ", 5}, {"Hạng", 4}, {"Má", 3}, {"Tráng", 3}, {"Chang", 2}},
		maleMid:   []wstr{{"A", 55}, {"Seo", 15}, {"Văn", 20}, {"", 10}},
		femaleMid: []wstr{{"Thị", 92}, {"", 8}},
		pOwnGiven: 0.8,
		maleGiven: []wstr{{"Páo", 5}, {"Sử", 5}, {"Chứ", 5}, {"Dế", 4}, {"Sình", 4}, {"Pó", 3}, {"Lử", 3},
			{"Tủa", 3}, {"Nhè", 3}, {"Chình", 3}, {"Dình", 3}, {"Lềnh", 2}, {"Cở", 2}, {"Sáy", 2}, {"Mua", 2},
			{"Tráng", 2}, {"Chư", 2}},
		femaleGiven: []wstr{{"Mỷ", 5}, {"Dua", 4}, {"Sua", 4}, {"Pà", 4}, {"Dợ", 3}, {"Máy", 3}, {"Của", 3},
			{"Sí", 3}, {"Chở", 3}, {"Mai", 3}, {"Dở", 2}, {"Mỉ", 2}, {"Xúa", 2}, {"Lan", 2}},
	},
	eThai: {
		pOwnSurname: 0.6,
		surnames: []wstr{{"Lò", 25}, {"Cầm", 12}, {"Lường", 10}, {"Quàng", 8}, {"Tòng", 6}, {"Vì", 6},
			{"Lù", 5}, {"Điêu", 4}, {"Hoàng", 5}, {"Hà", 5}, {"Bạc", 3}, {"Sa", 2}, {"Mè", 2}, {"Lộc", 2},
			{"Cà", 2}, {"Lê", 3}},
		pOwnGiven: 0.35,
		maleGiven: []wstr{{"Pánh", 3}, {"Khằm", 3}, {"Xôm", 2}, {"Ún", 2}, {"Piểng", 2}, {"Phăn", 2},
			{"Inh", 2}, {"Thoát", 2}, {"Hặc", 1}, {"Chiến", 2}},
		femaleGiven: []wstr{{"Ban", 3}, {"Ín", 2}, {"Phanh", 2}, {"Xim", 2}, {"Lả", 2}, {"Ngoan", 2},
			{"Thoa", 2}, {"Hom", 2}, {"Ọi", 1}, {"Xuân", 2}},
	},
	eTay: {
		pOwnSurname: 0.45,
		surnames: []wstr{{"Hoàng", 20}, {"Nông", 15}, {"Lương", 8}, {"Hà", 6}, {"Ma", 5}, {"Lục", 5}, {"Vi", 4},
			{"Đàm", 4}, {"Triệu", 4}, {"Hứa", 3}, {"Lăng", 2}, {"Nguyễn", 10}, {"La", 3}, {"Bế", 4}, {"Mông", 2}},
	},
	eNung: {
		pOwnSurname: 0.45,
		surnames: []wstr{{"Hoàng", 18}, {"Nông", 12}, {"Lương", 8}, {"Vi", 8}, {"Lục", 6}, {"Chu", 5}, {"Mã", 4},
			{"Triệu", 4}, {"Lăng", 4}, {"Hứa", 3}, {"Bế", 3}, {"Nguyễn", 8}, {"La", 3}, {"Sầm", 2}, {"Lý", 3}},
	},
	eMuong: {
		pOwnSurname: 0.5,
		surnames: []wstr{{"Bùi", 35}, {"Đinh", 20}, {"Quách", 12}, {"Hà", 8}, {"Xa", 5}, {"Cao", 4}, {"Bạch", 3},
			{"Nguyễn", 5}, {"Hoàng", 3}, {"Trương", 2}},
	},
	eDao: {
		pOwnSurname: 0.7,
		surnames: []wstr{{"Triệu", 30}, {"Bàn", 20}, {"Lý", 12}, {"Đặng", 10}, {"Phùng", 6}, {"Chảo", 6},
			{"Tẩn", 5}, {"Lò", 3}, {"Hoàng", 3}, {"Chu", 2}},
		pOwnGiven: 0.4,
		maleGiven: []wstr{{"Tài", 2}, {"Chàn", 2}, {"Phin", 2}, {"Quẩy", 2}, {"Sếnh", 2}, {"Lở", 1}, {"Chiêu", 2},
			{"Vình", 2}},
		femaleGiven: []wstr{{"Mẩy", 2}, {"Chản", 2}, {"Nải", 2}, {"Lìn", 2}, {"Sâm", 2}, {"Mui", 1}, {"Dảo", 1},
			{"Dìn", 1}},
	},
	eHoa: {
		pOwnSurname: 0.5,
		surnames: []wstr{{"Lâm", 12}, {"Trương", 10}, {"Lý", 10}, {"Quách", 6}, {"Hứa", 5}, {"Tăng", 5},
			{"Châu", 5}, {"Lưu", 5}, {"Mã", 4}, {"Diệp", 4}, {"La", 3}, {"Vương", 4}, {"Hồng", 3}, {"Tạ", 3},
			{"Lương", 4}, {"Phùng", 3}, {"Huỳnh", 5}, {"Trần", 6}, {"Thái", 3}, {"Dương", 3}},
		maleMid: []wstr{{"Chí", 20}, {"Quốc", 15}, {"Vĩnh", 15}, {"Gia", 10}, {"Văn", 15}, {"Kiến", 8},
			{"Thành", 8}, {"Minh", 9}},
		femaleMid: []wstr{{"Mỹ", 20}, {"Huệ", 15}, {"Ngọc", 15}, {"Tú", 10}, {"Thị", 15}, {"Lệ", 10},
			{"Thanh", 8}, {"Kim", 7}},
	},
	eKhmer: {
		pOwnSurname: 0.7,
		surnames: []wstr{{"Thạch", 25}, {"Sơn", 20}, {"Kim", 10}, {"Danh", 12}, {"Lâm", 6}, {"Trà", 5},
			{"Huỳnh", 4}, {"Lý", 5}, {"Châu", 4}, {"Kiên", 3}, {"Triệu", 3}, {"Dương", 3}},
		maleMid:   []wstr{{"", 60}, {"Văn", 35}, {"Hoàng", 5}},
		femaleMid: []wstr{{"Thị", 70}, {"", 30}},
		pOwnGiven: 0.8,
		maleGiven: []wstr{{"Sóc", 4}, {"Phol", 3}, {"Ni", 3}, {"Sà Rây", 3}, {"Sa Rinh", 2}, {"Chanh", 3},
			{"Sang", 3}, {"Khương", 2}, {"Rươne", 2}, {"Thươl", 2}, {"Sa Ron", 2}, {"Pho", 2}, {"Sương", 2},
			{"Đa Ra", 2}, {"Chanh Đa", 2}},
		femaleGiven: []wstr{{"Sa Ri", 3}, {"Sô Phia", 3}, {"Srey Mom", 2}, {"Chanh Thu", 2}, {"Sóc Khà", 2},
			{"Thi Đa", 2}, {"Sa Phon", 2}, {"Srey Pov", 2}, {"Sa Vết", 2}, {"Chăn Thu", 2}, {"Ra Ni", 2},
			{"Sa Quel", 2}},
	},
	eGiaRai: {
		pOwnSurname: 0.8,
		surnames: []wstr{{"Ksor", 20}, {"Rơ Châm", 15}, {"Siu", 15}, {"Rơ Mah", 15}, {"Nay", 10}, {"Kpă", 8},
			{"Puih", 6}, {"Rah Lan", 6}, {"Rcom", 5}},
		maleMid:   []wstr{{"", 85}, {"Văn", 15}},
		femaleMid: []wstr{{"", 80}, {"Thị", 20}},
		pOwnGiven: 0.85,
		maleGiven: []wstr{{"Blơi", 3}, {"Đoan", 3}, {"Hyưn", 2}, {"Thuất", 2}, {"Prông", 2}, {"Ngơi", 2},
			{"Djuh", 2}, {"Hlin", 2}, {"Bơ", 2}, {"Khuê", 2}, {"Nhơn", 2}, {"Yưh", 2}},
		femaleGiven: []wstr{{"H'Mai", 3}, {"H'Nhi", 2}, {"H'Yao", 2}, {"H'Lan", 3}, {"H'Ly", 2}, {"H'Hen", 2},
			{"H'Nga", 2}, {"H'Bia", 2}, {"H'Ngun", 2}, {"H'Xuân", 2}},
	},
	eCham: {
		pOwnSurname: 0.5,
		surnames: []wstr{{"Đàng", 12}, {"Thuận", 10}, {"Quảng", 8}, {"Thiên", 6}, {"Lưu", 6}, {"Bá", 8},
			{"Châu", 6}, {"Phú", 5}, {"Thông", 5}, {"Hán", 4}, {"Mã", 4}, {"Lộ", 4}, {"Trượng", 3}, {"Từ", 3},
			{"Dụng", 3}, {"Kiều", 3}, {"Nguyễn", 5}},
	},
}
