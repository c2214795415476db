package registry

import (
	"strings"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/fold"
)

// The coded fields of a person — ethnicity, religion, nationality — take
// values from fixed catalogues, checked on every register write that sets
// them, so a typo or an invented code never reaches the register (and
// the cards, messages and statistics built on it).

// Ethnicity is one of the 54 ethnic groups of Vietnam with its official
// two-digit code (General Statistics Office), as the register stores it.
type Ethnicity struct {
	Code, Name string
}

// Ethnicities are in code order, Kinh first.
func Ethnicities() []Ethnicity {
	return []Ethnicity{
		{"01", "Kinh"}, {"02", "Tày"}, {"03", "Thái"}, {"04", "Hoa"}, {"05", "Khơ-me"},
		{"06", "Mường"}, {"07", "Nùng"}, {"08", "Hmông"}, {"09", "Dao"}, {"10", "Gia-rai"},
		{"11", "Ngái"}, {"12", "Ê-đê"}, {"13", "Ba-na"}, {"14", "Xơ-đăng"}, {"15", "Sán Chay"},
		{"16", "Cơ-ho"}, {"17", "Chăm"}, {"18", "Sán Dìu"}, {"19", "Hrê"}, {"20", "Mnông"},
		{"21", "Ra-glai"}, {"22", "Xtiêng"}, {"23", "Bru-Vân Kiều"}, {"24", "Thổ"}, {"25", "Giáy"},
		{"26", "Cơ-tu"}, {"27", "Gié-Triêng"}, {"28", "Mạ"}, {"29", "Khơ-mú"}, {"30", "Co"},
		{"31", "Tà-ôi"}, {"32", "Chơ-ro"}, {"33", "Kháng"}, {"34", "Xinh-mun"}, {"35", "Hà Nhì"},
		{"36", "Chu-ru"}, {"37", "Lào"}, {"38", "La Chí"}, {"39", "La Ha"}, {"40", "Phù Lá"},
		{"41", "La Hủ"}, {"42", "Lự"}, {"43", "Lô Lô"}, {"44", "Chứt"}, {"45", "Mảng"},
		{"46", "Pà Thẻn"}, {"47", "Co Lao"}, {"48", "Cống"}, {"49", "Bố Y"}, {"50", "Si La"},
		{"51", "Pu Péo"}, {"52", "Brâu"}, {"53", "Ơ-đu"}, {"54", "Rơ-măm"},
	}
}

// Religions are the 16 religions recognised in Vietnam, spelt as the
// census publishes them; a person without religion has "".
func Religions() []string {
	return []string{
		"Phật giáo", "Công giáo", "Tin lành", "Cao Đài", "Phật giáo Hòa Hảo", "Hồi giáo",
		"Bà-la-môn", "Tịnh độ cư sĩ Phật hội Việt Nam", "Tứ Ân Hiếu Nghĩa", "Bửu Sơn Kỳ Hương",
		"Minh Sư đạo", "Minh Lý đạo", "Bahá'í", "Cơ đốc Phục lâm", "Mặc môn", "Phật giáo Hiếu Nghĩa Tà Lơn",
	}
}

// nationalities are the ISO 3166-1 alpha-3 country codes, and ICAO Doc
// 9303's codes for stateless persons (XXA), refugees (XXB, XXC) and an
// unspecified nationality (XXX), as the card's MRZ writes them.
var nationalities = map[string]bool{
	"ABW": true, "AFG": true, "AGO": true, "AIA": true, "ALA": true, "ALB": true, "AND": true, "ARE": true, "ARG": true, "ARM": true, "ASM": true, "ATA": true, "ATF": true, "ATG": true, "AUS": true, "AUT": true,
	"AZE": true, "BDI": true, "BEL": true, "BEN": true, "BES": true, "BFA": true, "BGD": true, "BGR": true, "BHR": true, "BHS": true, "BIH": true, "BLM": true, "BLR": true, "BLZ": true, "BMU": true, "BOL": true,
	"BRA": true, "BRB": true, "BRN": true, "BTN": true, "BVT": true, "BWA": true, "CAF": true, "CAN": true, "CCK": true, "CHE": true, "CHL": true, "CHN": true, "CIV": true, "CMR": true, "COD": true, "COG": true,
	"COK": true, "COL": true, "COM": true, "CPV": true, "CRI": true, "CUB": true, "CUW": true, "CXR": true, "CYM": true, "CYP": true, "CZE": true, "DEU": true, "DJI": true, "DMA": true, "DNK": true, "DOM": true,
	"DZA": true, "ECU": true, "EGY": true, "ERI": true, "ESH": true, "ESP": true, "EST": true, "ETH": true, "FIN": true, "FJI": true, "FLK": true, "FRA": true, "FRO": true, "FSM": true, "GAB": true, "GBR": true,
	"GEO": true, "GGY": true, "GHA": true, "GIB": true, "GIN": true, "GLP": true, "GMB": true, "GNB": true, "GNQ": true, "GRC": true, "GRD": true, "GRL": true, "GTM": true, "GUF": true, "GUM": true, "GUY": true,
	"HKG": true, "HMD": true, "HND": true, "HRV": true, "HTI": true, "HUN": true, "IDN": true, "IMN": true, "IND": true, "IOT": true, "IRL": true, "IRN": true, "IRQ": true, "ISL": true, "ISR": true, "ITA": true,
	"JAM": true, "JEY": true, "JOR": true, "JPN": true, "KAZ": true, "KEN": true, "KGZ": true, "KHM": true, "KIR": true, "KNA": true, "KOR": true, "KWT": true, "LAO": true, "LBN": true, "LBR": true, "LBY": true,
	"LCA": true, "LIE": true, "LKA": true, "LSO": true, "LTU": true, "LUX": true, "LVA": true, "MAC": true, "MAF": true, "MAR": true, "MCO": true, "MDA": true, "MDG": true, "MDV": true, "MEX": true, "MHL": true,
	"MKD": true, "MLI": true, "MLT": true, "MMR": true, "MNE": true, "MNG": true, "MNP": true, "MOZ": true, "MRT": true, "MSR": true, "MTQ": true, "MUS": true, "MWI": true, "MYS": true, "MYT": true, "NAM": true,
	"NCL": true, "NER": true, "NFK": true, "NGA": true, "NIC": true, "NIU": true, "NLD": true, "NOR": true, "NPL": true, "NRU": true, "NZL": true, "OMN": true, "PAK": true, "PAN": true, "PCN": true, "PER": true,
	"PHL": true, "PLW": true, "PNG": true, "POL": true, "PRI": true, "PRK": true, "PRT": true, "PRY": true, "PSE": true, "PYF": true, "QAT": true, "REU": true, "ROU": true, "RUS": true, "RWA": true, "SAU": true,
	"SDN": true, "SEN": true, "SGP": true, "SGS": true, "SHN": true, "SJM": true, "SLB": true, "SLE": true, "SLV": true, "SMR": true, "SOM": true, "SPM": true, "SRB": true, "SSD": true, "STP": true, "SUR": true,
	"SVK": true, "SVN": true, "SWE": true, "SWZ": true, "SXM": true, "SYC": true, "SYR": true, "TCA": true, "TCD": true, "TGO": true, "THA": true, "TJK": true, "TKL": true, "TKM": true, "TLS": true, "TON": true, "TTO": true,
	"TUN": true, "TUR": true, "TUV": true, "TWN": true, "TZA": true, "UGA": true, "UKR": true, "UMI": true, "URY": true, "USA": true, "UZB": true, "VAT": true, "VCT": true, "VEN": true, "VGB": true, "VIR": true,
	"VNM": true, "VUT": true, "WLF": true, "WSM": true, "YEM": true, "ZAF": true, "ZMB": true, "ZWE": true,
	"XXA": true, "XXB": true, "XXC": true, "XXX": true,
}

// Faults of the coded fields.
var (
	ErrEthnicityInvalid   = fault.New(fault.Invalid, "ethnicity.invalid", "Dân tộc phải là một trong 54 mã dân tộc (01–54) của danh mục.", "The ethnicity must be one of the 54 catalogue codes (01–54).")
	ErrReligionInvalid    = fault.New(fault.Invalid, "religion.invalid", "Tôn giáo không có trong danh mục tôn giáo được công nhận; để trống nếu không theo tôn giáo nào.", "The religion is not in the catalogue of recognised religions; leave it empty for none.")
	ErrNationalityInvalid = fault.New(fault.Invalid, "nationality.invalid", "Quốc tịch phải là mã quốc gia 3 chữ cái theo ISO 3166-1 (ví dụ VNM).", "The nationality must be a three-letter ISO 3166-1 country code (for example VNM).")
)

// Codes are the coded fields as a form or request gives them.
type Codes struct {
	Ethnicity, Religion, Nationality string
}

// checkCodes validates the coded fields against their catalogues, adding a
// fault per wrong field to problems, and returns them as the register
// stores them: the ethnicity's two digits, the religion's catalogue
// spelling ("" for none), the nationality in capitals.
func checkCodes(c Codes, problems *fault.List) Codes {
	var out Codes
	out.Ethnicity = strings.TrimSpace(c.Ethnicity)
	ok := false
	for _, e := range Ethnicities() {
		ok = ok || e.Code == out.Ethnicity
	}
	if !ok {
		problems.Add("ethnicity", ErrEthnicityInvalid)
	}
	if r := strings.TrimSpace(c.Religion); r != "" {
		folded := fold.String(r)
		for _, known := range Religions() {
			if fold.String(known) == folded {
				out.Religion = known
			}
		}
		if out.Religion == "" {
			problems.Add("religion", ErrReligionInvalid)
		}
	}
	out.Nationality = strings.ToUpper(strings.TrimSpace(c.Nationality))
	if !nationalities[out.Nationality] {
		problems.Add("nationality", ErrNationalityInvalid)
	}
	return out
}
