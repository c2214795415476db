package synth

// Reference tables. Every figure here is a rounded approximation of widely
// published statistics (2019 Population and Housing Census of the General
// Statistics Office, GSO, and the 2025 provincial-merger resolutions). They
// exist to make synthetic data look plausible, not to be quoted.

// Ethnicity is one of the 54 ethnic groups recognised by Vietnam, with its
// official GSO code (two digits, "01" Kinh … "54" Rơ-măm).
type Ethnicity struct {
	Code, Name string
}

// ethnicities is in official GSO code order; index i has code i+1.
// pop19 is the 2019 census population in thousands (rounded).
var ethnicities = [...]struct {
	name  string
	pop19 float64
}{
	{"Kinh", 82085.8},
	{"Tày", 1845.5},
	{"Thái", 1820.9},
	{"Hoa", 749.5},
	{"Khơ-me", 1319.7},
	{"Mường", 1452.1},
	{"Nùng", 1083.3},
	{"Hmông", 1393.5},
	{"Dao", 891.2},
	{"Gia-rai", 513.9},
	{"Ngái", 1.6},
	{"Ê-đê", 398.7},
	{"Ba-na", 286.9},
	{"Xơ-đăng", 212.3},
	{"Sán Chay", 201.4},
	{"Cơ-ho", 200.8},
	{"Chăm", 178.9},
	{"Sán Dìu", 183.0},
	{"Hrê", 149.5},
	{"Mnông", 127.3},
	{"Ra-glai", 146.6},
	{"Xtiêng", 100.8},
	{"Bru-Vân Kiều", 94.6},
	{"Thổ", 91.4},
	{"Giáy", 67.9},
	{"Cơ-tu", 74.2},
	{"Gié-Triêng", 63.3},
	{"Mạ", 50.3},
	{"Khơ-mú", 90.6},
	{"Co", 40.4},
	{"Tà-ôi", 52.4},
	{"Chơ-ro", 29.5},
	{"Kháng", 16.2},
	{"Xinh-mun", 29.5},
	{"Hà Nhì", 25.5},
	{"Chu-ru", 23.2},
	{"Lào", 17.5},
	{"La Chí", 15.1},
	{"La Ha", 10.2},
	{"Phù Lá", 12.5},
	{"La Hủ", 12.1},
	{"Lự", 6.8},
	{"Lô Lô", 4.8},
	{"Chứt", 7.5},
	{"Mảng", 4.65},
	{"Pà Thẻn", 8.25},
	{"Co Lao", 4.0},
	{"Cống", 2.7},
	{"Bố Y", 3.2},
	{"Si La", 0.9},
	{"Pu Péo", 0.9},
	{"Brâu", 0.53},
	{"Ơ-đu", 0.43},
	{"Rơ-măm", 0.64},
}

// Ethnic indices (code-1) used by the tables below.
const (
	eKinh       = 0
	eTay        = 1
	eThai       = 2
	eHoa        = 3
	eKhmer      = 4
	eMuong      = 5
	eNung       = 6
	eHmong      = 7
	eDao        = 8
	eGiaRai     = 9
	eEDe        = 11
	eBaNa       = 12
	eXoDang     = 13
	eSanChay    = 14
	eCoHo       = 15
	eCham       = 16
	eSanDiu     = 17
	eHre        = 18
	eMnong      = 19
	eRaglai     = 20
	eXtieng     = 21
	eBruVanKieu = 22
	eTho        = 23
	eGiay       = 24
	eCoTu       = 25
	eGieTrieng  = 26
	eMa         = 27
	eKhoMu      = 28
	eCo         = 29
	eTaOi       = 30
	eChoRo      = 31
	eKhang      = 32
	eXinhMun    = 33
	eHaNhi      = 34
	eChuRu      = 35
	eLao        = 36
	eLaChi      = 37
	eLaHa       = 38
	ePhuLa      = 39
	eLaHu       = 40
	eLu         = 41
	eLoLo       = 42
	eChut       = 43
	eMang       = 44
	ePaThen     = 45
	eCoLao      = 46
	eCong       = 47
	eBoY        = 48
	eSiLa       = 49
	ePuPeo      = 50
	eBrau       = 51
	eODu        = 52
	eRoMam      = 53
)

// ethCodes holds the two-digit code strings, so that no allocation is needed
// in the hot path.
var ethCodes = func() [len(ethnicities)]string {
	var c [len(ethnicities)]string
	for i := range c {
		c[i] = string([]byte{byte('0' + (i+1)/10), byte('0' + (i+1)%10)})
	}
	return c
}()

// Ethnicities returns the 54 ethnic groups in official code order. The
// slice is freshly allocated on every call.
func Ethnicities() []Ethnicity {
	out := make([]Ethnicity, len(ethnicities))
	for i, e := range ethnicities {
		out[i] = Ethnicity{Code: ethCodes[i], Name: e.name}
	}
	return out
}

type ethShare struct {
	eth int
	pct float64
}

// provinceEthnicMix gives, per post-2025 province, the approximate percentage
// of the main minority groups (2019 census figures of the merged provinces,
// population-weighted and rounded). Kinh is the remainder. Provinces not
// listed here fall back to the national mix.
var provinceEthnicMix = map[string][]ethShare{
	"01": {{eMuong, 0.9}, {eTay, 0.2}, {eThai, 0.1}, {eNung, 0.1}, {eDao, 0.1}, {eHoa, 0.05}},
	"04": {{eTay, 40.8}, {eNung, 31.1}, {eHmong, 11.6}, {eDao, 10.3}, {eSanChay, 0.6}, {eLoLo, 0.5}, {eHoa, 0.1}},
	"08": {{eTay, 24.5}, {eHmong, 19}, {eDao, 13.5}, {eNung, 6}, {eSanChay, 4.5}, {eGiay, 1}, {eLaChi, 0.8},
		{ePaThen, 0.4}, {eLoLo, 0.2}, {eBoY, 0.1}, {ePuPeo, 0.05}, {eCoLao, 0.2}, {ePhuLa, 0.2}},
	"11": {{eHmong, 36}, {eThai, 34}, {eKhoMu, 3}, {eDao, 1}, {eHaNhi, 1}, {eLao, 1}, {ePhuLa, 0.5},
		{eCong, 0.3}, {eSiLa, 0.1}, {eHoa, 0.3}},
	"12": {{eThai, 32}, {eHmong, 24.5}, {eDao, 13.5}, {eHaNhi, 5.5}, {eGiay, 4}, {eLaHu, 2}, {eLu, 1},
		{eMang, 1}, {eKhoMu, 0.5}, {eCong, 0.5}, {eSiLa, 0.1}},
	"14": {{eThai, 53}, {eHmong, 16}, {eMuong, 8}, {eXinhMun, 2}, {eDao, 1.5}, {eKhoMu, 1.2}, {eKhang, 1},
		{eLaHa, 0.8}, {eLao, 0.3}},
	"15": {{eHmong, 17.5}, {eTay, 17}, {eDao, 12.5}, {eThai, 3}, {eNung, 2.5}, {eGiay, 2}, {eHaNhi, 1},
		{ePhuLa, 0.7}, {eMuong, 0.5}, {eBoY, 0.1}, {eLaChi, 0.1}},
	"19": {{eTay, 19}, {eNung, 6.6}, {eDao, 5}, {eSanDiu, 2}, {eSanChay, 2}, {eHmong, 1.6}, {eHoa, 0.3}},
	"20": {{eNung, 42.4}, {eTay, 35.4}, {eDao, 3.6}, {eSanChay, 0.5}, {eHoa, 0.3}, {eHmong, 0.2}},
	"22": {{eDao, 4.5}, {eTay, 2}, {eSanDiu, 2}, {eSanChay, 1.5}, {eHoa, 0.4}, {eNung, 0.4}, {eNgai, 0.05}},
	"24": {{eNung, 2.6}, {eTay, 1.5}, {eSanChay, 1.0}, {eSanDiu, 0.9}, {eHoa, 0.6}, {eDao, 0.3}},
	"25": {{eMuong, 21}, {eDao, 1}, {eThai, 1}, {eSanDiu, 0.8}, {eTay, 0.7}, {eSanChay, 0.5}, {eHmong, 0.15}},
	"31": {{eHoa, 0.05}, {eMuong, 0.05}, {eTay, 0.05}},
	"33": {{eMuong, 0.03}, {eTay, 0.03}},
	"37": {{eMuong, 0.6}, {eTay, 0.03}},
	"38": {{eMuong, 9.1}, {eThai, 6.3}, {eHmong, 0.5}, {eTho, 0.2}, {eDao, 0.2}, {eKhoMu, 0.02}},
	"40": {{eThai, 9.5}, {eTho, 2.2}, {eKhoMu, 1.2}, {eHmong, 1}, {eODu, 0.02}},
	"42": {{eMuong, 0.1}, {eChut, 0.02}},
	"44": {{eBruVanKieu, 5.2}, {eTaOi, 1.4}, {eChut, 0.4}},
	"46": {{eTaOi, 2.5}, {eCoTu, 1.4}, {eBruVanKieu, 0.2}},
	"48": {{eCoTu, 2.4}, {eXoDang, 1.7}, {eGieTrieng, 0.9}, {eCo, 0.2}, {eHoa, 0.1}},
	"51": {{eXoDang, 8.3}, {eHre, 7.4}, {eBaNa, 3.9}, {eGieTrieng, 1.8}, {eCo, 1.6}, {eGiaRai, 1.2},
		{eBrau, 0.03}, {eRoMam, 0.03}},
	"52": {{eGiaRai, 16.8}, {eBaNa, 7.7}, {eNung, 0.5}, {eTay, 0.4}, {eHre, 0.4}, {eCham, 0.1}},
	"56": {{eRaglai, 6.3}, {eCham, 3.9}, {eCoHo, 0.5}, {eHoa, 0.3}},
	"66": {{eEDe, 13.2}, {eNung, 3.1}, {eTay, 1.7}, {eMnong, 1.7}, {eCham, 0.9}, {eBaNa, 0.8},
		{eGiaRai, 0.7}, {eDao, 0.7}, {eHmong, 0.7}, {eThai, 0.7}, {eMuong, 0.3}},
	"68": {{eCoHo, 5.5}, {eNung, 1.8}, {eTay, 1.5}, {eMnong, 1.5}, {eMa, 1.2}, {eCham, 1.2}, {eDao, 0.7},
		{eChuRu, 0.6}, {eHmong, 0.5}, {eRaglai, 0.3}, {eHoa, 0.3}, {eEDe, 0.1}},
	"75": {{eHoa, 2.4}, {eXtieng, 2.2}, {eNung, 1}, {eTay, 0.8}, {eKhmer, 0.6}, {eChoRo, 0.45},
		{eMnong, 0.25}, {eDao, 0.1}},
	"79": {{eHoa, 3.3}, {eKhmer, 0.4}, {eTay, 0.2}, {eNung, 0.2}, {eMuong, 0.1}, {eThai, 0.1},
		{eChoRo, 0.07}, {eCham, 0.07}},
	"80": {{eKhmer, 0.4}, {eHoa, 0.2}, {eCham, 0.1}},
	"82": {{eHoa, 0.1}, {eKhmer, 0.05}},
	"86": {{eKhmer, 10.3}, {eHoa, 0.3}},
	"91": {{eKhmer, 8.2}, {eHoa, 0.9}, {eCham, 0.4}},
	"92": {{eKhmer, 12}, {eHoa, 2.3}},
	"96": {{eKhmer, 4.7}, {eHoa, 1.4}},
}

const eNgai = 10

// Religion indices; 0 means none.
const (
	rNone = iota
	rCatholic
	rBuddhist
	rProtestant
	rCaoDai
	rHoaHao
	rIslam
	rBrahmin
	rTinhDo
	rTuAn
	rBuuSon
	rMinhSu
	rMinhLy
	rBahai
	nReligions
)

// religionNames lists the religions used ("" = none). Names follow the
// spelling used in Vietnamese census publications.
var religionNames = [nReligions]string{
	"",
	"Công giáo",
	"Phật giáo",
	"Tin lành",
	"Cao Đài",
	"Phật giáo Hòa Hảo",
	"Hồi giáo",
	"Bà-la-môn",
	"Tịnh độ cư sĩ Phật hội Việt Nam",
	"Tứ Ân Hiếu Nghĩa",
	"Bửu Sơn Kỳ Hương",
	"Minh Sư đạo",
	"Minh Lý đạo",
	"Bahá'í",
}

// Religions returns the names of the religions the generator may assign
// (Person.Religion is "" for none, about 86 % of people). Fresh slice.
func Religions() []string {
	out := make([]string, 0, nReligions-1)
	out = append(out, religionNames[1:]...)
	return out
}

type relShare struct {
	rel int
	pct float64
}

// provinceReligion: approximate percentages of followers among the Kinh
// (and minorities without a specific profile) of each post-2025 province,
// shaped after the 2019 census. "None" is the remainder.
var provinceReligion = map[string][]relShare{
	"01": {{rCatholic, 2.5}, {rBuddhist, 3}, {rProtestant, 0.2}},
	"22": {{rCatholic, 1.5}, {rBuddhist, 2}},
	"31": {{rCatholic, 3.5}, {rBuddhist, 3}},
	"33": {{rCatholic, 7}, {rBuddhist, 1.5}},
	"37": {{rCatholic, 13}, {rBuddhist, 1.5}, {rProtestant, 0.3}},
	"38": {{rCatholic, 4.5}, {rBuddhist, 1}},
	"40": {{rCatholic, 8}, {rBuddhist, 0.5}},
	"42": {{rCatholic, 7.5}, {rBuddhist, 0.3}},
	"44": {{rCatholic, 10}, {rBuddhist, 2}},
	"46": {{rCatholic, 4}, {rBuddhist, 8}, {rProtestant, 0.2}},
	"48": {{rCatholic, 3.5}, {rBuddhist, 6}, {rProtestant, 0.8}, {rCaoDai, 0.2}},
	"51": {{rCatholic, 7}, {rBuddhist, 3}, {rProtestant, 1.5}},
	"52": {{rCatholic, 3}, {rBuddhist, 4}, {rProtestant, 1.5}},
	"56": {{rCatholic, 7}, {rBuddhist, 6}, {rProtestant, 0.7}},
	"66": {{rCatholic, 8}, {rBuddhist, 5}, {rProtestant, 2}, {rCaoDai, 0.3}},
	"68": {{rCatholic, 17}, {rBuddhist, 7}, {rProtestant, 2}, {rCaoDai, 1}},
	"75": {{rCatholic, 22}, {rBuddhist, 7}, {rProtestant, 1.5}, {rCaoDai, 1.5}, {rTinhDo, 0.1}},
	"79": {{rCatholic, 7.5}, {rBuddhist, 5}, {rProtestant, 1.5}, {rCaoDai, 0.8}, {rHoaHao, 0.1},
		{rTinhDo, 0.2}, {rMinhSu, 0.02}, {rMinhLy, 0.02}, {rBahai, 0.01}},
	"80": {{rCatholic, 1.5}, {rBuddhist, 5}, {rCaoDai, 8}, {rProtestant, 0.3}},
	"82": {{rCatholic, 2}, {rBuddhist, 6}, {rCaoDai, 2}, {rHoaHao, 6}, {rProtestant, 0.3}, {rTuAn, 0.05},
		{rBuuSon, 0.05}},
	"86": {{rCatholic, 4}, {rBuddhist, 5}, {rCaoDai, 3}, {rHoaHao, 0.5}, {rProtestant, 0.3}, {rTinhDo, 0.3}},
	"91": {{rCatholic, 2}, {rBuddhist, 6}, {rHoaHao, 20}, {rCaoDai, 1.5}, {rProtestant, 0.3}, {rTuAn, 0.4},
		{rBuuSon, 0.3}},
	"92": {{rCatholic, 2}, {rBuddhist, 4}, {rHoaHao, 6}, {rCaoDai, 1.5}, {rProtestant, 0.3}},
	"96": {{rCatholic, 2.5}, {rBuddhist, 5}, {rCaoDai, 2}, {rHoaHao, 1}, {rProtestant, 0.4}, {rTinhDo, 0.5}},
}

// defaultReligion is used for provinces without a profile (mostly the
// northern midlands and mountains).
var defaultReligion = []relShare{{rCatholic, 2}, {rBuddhist, 1.5}, {rProtestant, 0.2}}

// ethnicReligion overrides the provincial profile for groups whose religion
// differs markedly from the Kinh majority (Theravada Khmer, Cham Bani/Balamon,
// Protestant and Catholic highland groups...).
var ethnicReligion = map[int][]relShare{
	eKhmer:     {{rBuddhist, 92}, {rCatholic, 0.5}},
	eCham:      {{rBrahmin, 55}, {rIslam, 40}},
	eHoa:       {{rBuddhist, 30}, {rCatholic, 5}, {rProtestant, 1}},
	eHmong:     {{rProtestant, 15}, {rCatholic, 3}},
	eDao:       {{rProtestant, 3}},
	eEDe:       {{rProtestant, 40}, {rCatholic, 20}},
	eGiaRai:    {{rProtestant, 30}, {rCatholic, 20}},
	eBaNa:      {{rCatholic, 40}, {rProtestant, 5}},
	eXoDang:    {{rCatholic, 45}, {rProtestant, 5}},
	eCoHo:      {{rCatholic, 40}, {rProtestant, 30}},
	eMnong:     {{rProtestant, 40}, {rCatholic, 15}},
	eXtieng:    {{rProtestant, 30}, {rCatholic, 20}},
	eMa:        {{rCatholic, 40}, {rProtestant, 30}},
	eChuRu:     {{rCatholic, 40}, {rProtestant, 20}},
	eGieTrieng: {{rCatholic, 20}, {rProtestant, 3}},
	eBrau:      {{rCatholic, 20}},
	eRoMam:     {{rCatholic, 20}},
}

// populationWeights: approximate population in thousands of the 34
// post-2025 provinces (figures published with the 2025 merger resolutions,
// which include temporary residents; rounded). Approximations only.
var populationWeights = [...]struct {
	code string
	pop  float64
}{
	{"01", 8720},  // Hà Nội
	{"04", 573},   // Cao Bằng
	{"08", 1865},  // Tuyên Quang (+ Hà Giang)
	{"11", 653},   // Điện Biên
	{"12", 513},   // Lai Châu
	{"14", 1327},  // Sơn La
	{"15", 1779},  // Lào Cai (+ Yên Bái)
	{"19", 1799},  // Thái Nguyên (+ Bắc Kạn)
	{"20", 802},   // Lạng Sơn
	{"22", 1363},  // Quảng Ninh
	{"24", 3619},  // Bắc Ninh (+ Bắc Giang)
	{"25", 4023},  // Phú Thọ (+ Vĩnh Phúc, Hòa Bình)
	{"31", 4664},  // Hải Phòng (+ Hải Dương)
	{"33", 3568},  // Hưng Yên (+ Thái Bình)
	{"37", 4412},  // Ninh Bình (+ Hà Nam, Nam Định)
	{"38", 3761},  // Thanh Hóa
	{"40", 3832},  // Nghệ An
	{"42", 1623},  // Hà Tĩnh
	{"44", 1871},  // Quảng Trị (+ Quảng Bình)
	{"46", 1433},  // Huế
	{"48", 3066},  // Đà Nẵng (+ Quảng Nam)
	{"51", 2162},  // Quảng Ngãi (+ Kon Tum)
	{"52", 3584},  // Gia Lai (+ Bình Định)
	{"56", 2244},  // Khánh Hòa (+ Ninh Thuận)
	{"66", 3347},  // Đắk Lắk (+ Phú Yên)
	{"68", 3873},  // Lâm Đồng (+ Đắk Nông, Bình Thuận)
	{"75", 4491},  // Đồng Nai (+ Bình Phước)
	{"79", 14003}, // TP Hồ Chí Minh (+ Bình Dương, Bà Rịa - Vũng Tàu)
	{"80", 3254},  // Tây Ninh (+ Long An)
	{"82", 4370},  // Đồng Tháp (+ Tiền Giang)
	{"86", 4258},  // Vĩnh Long (+ Bến Tre, Trà Vinh)
	{"91", 4952},  // An Giang (+ Kiên Giang)
	{"92", 4200},  // Cần Thơ (+ Sóc Trăng, Hậu Giang)
	{"96", 2607},  // Cà Mau (+ Bạc Liêu)
}

// PopulationWeights returns the approximate population (thousands, 2024,
// including temporary residents) of each of the 34 post-2025 provinces, by
// 2-digit province code. These are rounded approximations meant to be used
// as Area.Weight. The map is freshly allocated on every call.
func PopulationWeights() map[string]float64 {
	m := make(map[string]float64, len(populationWeights))
	for _, p := range populationWeights {
		m[p.code] = p.pop
	}
	return m
}

// legacyProvinces: the 63 pre-2025 provinces with their 2-digit codes and
// 2019 census population (thousands, rounded). Used to weight birth
// registration places.
var legacyProvinces = [...]struct {
	code string
	pop  float64
}{
	{"01", 8054}, {"02", 855}, {"04", 530}, {"06", 314}, {"08", 785}, {"10", 731}, {"11", 599},
	{"12", 461}, {"14", 1249}, {"15", 822}, {"17", 855}, {"19", 1287}, {"20", 782}, {"22", 1321},
	{"24", 1804}, {"25", 1464}, {"26", 1152}, {"27", 1369}, {"30", 1893}, {"31", 2029}, {"33", 1253},
	{"34", 1860}, {"35", 853}, {"36", 1780}, {"37", 983}, {"38", 3641}, {"40", 3328}, {"42", 1289},
	{"44", 896}, {"45", 633}, {"46", 1129}, {"48", 1135}, {"49", 1496}, {"51", 1232}, {"52", 1487},
	{"54", 873}, {"56", 1232}, {"58", 591}, {"60", 1231}, {"62", 541}, {"64", 1514}, {"66", 1870},
	{"67", 622}, {"68", 1297}, {"70", 995}, {"72", 1169}, {"74", 2456}, {"75", 3097}, {"77", 1149},
	{"79", 8993}, {"80", 1689}, {"82", 1765}, {"83", 1289}, {"84", 1009}, {"86", 1023}, {"87", 1600},
	{"89", 1908}, {"91", 1724}, {"92", 1236}, {"93", 734}, {"94", 1200}, {"95", 907}, {"96", 1194},
}

// mergedLegacy maps each post-2025 province to the pre-2025 provinces merged
// into it (the first one gives its name/seat to the new province in most cases).
var mergedLegacy = map[string][]string{
	"01": {"01"}, "04": {"04"}, "08": {"08", "02"}, "11": {"11"}, "12": {"12"}, "14": {"14"},
	"15": {"10", "15"}, "19": {"19", "06"}, "20": {"20"}, "22": {"22"}, "24": {"24", "27"},
	"25": {"25", "26", "17"}, "31": {"31", "30"}, "33": {"33", "34"}, "37": {"37", "35", "36"},
	"38": {"38"}, "40": {"40"}, "42": {"42"}, "44": {"45", "44"}, "46": {"46"}, "48": {"48", "49"},
	"51": {"51", "62"}, "52": {"64", "52"}, "56": {"56", "58"}, "66": {"66", "54"},
	"68": {"68", "67", "60"}, "75": {"75", "70"}, "79": {"79", "74", "77"}, "80": {"72", "80"},
	"82": {"82", "87"}, "86": {"86", "83", "84"}, "91": {"91", "89"}, "92": {"92", "94", "93"},
	"96": {"96", "95"},
}

// MergedLegacyProvinces returns, for each of the 34 post-2025 provinces, the
// 2-digit codes of the pre-2025 provinces merged into it (suitable for
// Area.BirthProvinceCodes). Freshly allocated.
func MergedLegacyProvinces() map[string][]string {
	m := make(map[string][]string, len(mergedLegacy))
	for k, v := range mergedLegacy {
		m[k] = append([]string(nil), v...)
	}
	return m
}

// defaultPyramid is the 2019 census age structure in 5-year bands (percent):
// 0–4, 5–9, …, 95–99, 100+. Under 15: 24.3 %; 15–59: 63.4 %; 60+: 12.3 %.
var defaultPyramid = [nBands]float64{
	8.1, 8.6, 7.6, // 0–14
	6.9, 7.0, 8.1, 8.3, 7.9, 7.3, 6.8, 6.0, 5.1, // 15–59
	4.2, 3.0, 1.8, 1.3, 1.0, 0.6, 0.3, 0.1, 0.02, // 60+
}

// DefaultAgePyramid returns the default age structure used when
// Config.AgePyramid is nil: percentages per 5-year band from 0–4 to 95–99,
// the last element being 100+ (approximately the 2019 census).
func DefaultAgePyramid() []float64 {
	return append([]float64(nil), defaultPyramid[:]...)
}
