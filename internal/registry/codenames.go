package registry

import "strings"

// The names of the coded fields' values, in Vietnamese (what the pages,
// the card and its chip show) and in English (the pages' second
// language), so that no page shows a bare code where a person expects a
// name. The register stores the codes (codes.go); these are only their
// names.

// Name is a catalogue value's name in Vietnamese and in English.
type Name struct {
	VI, EN string
}

// ethnicityEnglish are the English names of the 54 ethnic groups, by
// code, as the General Statistics Office's English publications spell
// them.
var ethnicityEnglish = map[string]string{
	"01": "Kinh", "02": "Tay", "03": "Thai", "04": "Hoa", "05": "Khmer",
	"06": "Muong", "07": "Nung", "08": "Hmong", "09": "Dao", "10": "Gia Rai",
	"11": "Ngai", "12": "Ede", "13": "Ba Na", "14": "Xo Dang", "15": "San Chay",
	"16": "Co Ho", "17": "Cham", "18": "San Diu", "19": "Hre", "20": "Mnong",
	"21": "Ra Glai", "22": "Xtieng", "23": "Bru-Van Kieu", "24": "Tho", "25": "Giay",
	"26": "Co Tu", "27": "Gie Trieng", "28": "Ma", "29": "Kho Mu", "30": "Co",
	"31": "Ta Oi", "32": "Cho Ro", "33": "Khang", "34": "Xinh Mun", "35": "Ha Nhi",
	"36": "Chu Ru", "37": "Lao", "38": "La Chi", "39": "La Ha", "40": "Phu La",
	"41": "La Hu", "42": "Lu", "43": "Lo Lo", "44": "Chut", "45": "Mang",
	"46": "Pa Then", "47": "Co Lao", "48": "Cong", "49": "Bo Y", "50": "Si La",
	"51": "Pu Peo", "52": "Brau", "53": "O Du", "54": "Ro Mam",
}

// religionEnglish are the English names of the recognised religions, by
// their catalogue spelling.
var religionEnglish = map[string]string{
	"Phật giáo":         "Buddhism",
	"Công giáo":         "Catholicism",
	"Tin lành":          "Protestantism",
	"Cao Đài":           "Cao Dai",
	"Phật giáo Hòa Hảo": "Hoa Hao Buddhism",
	"Hồi giáo":          "Islam",
	"Bà-la-môn":         "Brahmanism",
	"Tịnh độ cư sĩ Phật hội Việt Nam": "Pure Land Buddhist Home Practice Association of Vietnam",
	"Tứ Ân Hiếu Nghĩa":                "Tu An Hieu Nghia",
	"Bửu Sơn Kỳ Hương":                "Buu Son Ky Huong",
	"Minh Sư đạo":                     "Minh Su Dao",
	"Minh Lý đạo":                     "Minh Ly Dao",
	"Bahá'í":                          "Bahá'í Faith",
	"Cơ đốc Phục lâm":                 "Seventh-day Adventism",
	"Mặc môn":                         "The Church of Jesus Christ of Latter-day Saints",
	"Phật giáo Hiếu Nghĩa Tà Lơn":     "Hieu Nghia Ta Lon Buddhism",
}

// NoReligion is the name of "no religion" (stored as ""), which the card
// and its chip print as "Không".
var NoReligion = Name{VI: "Không", EN: "None"}

// EthnicityName is the name of ethnic group code.
func EthnicityName(code string) (Name, bool) {
	for _, e := range Ethnicities() {
		if e.Code == code {
			return Name{VI: e.Name, EN: ethnicityEnglish[code]}, true
		}
	}
	return Name{}, false
}

// ReligionName is the name of a stored religion: NoReligion for "".
func ReligionName(religion string) (Name, bool) {
	if religion == "" {
		return NoReligion, true
	}
	if en, ok := religionEnglish[religion]; ok {
		return Name{VI: religion, EN: en}, true
	}
	return Name{}, false
}

// Nationality is one value of the nationality catalogue: the code the
// register and the MRZ carry and its names.
type Nationality struct {
	Code string
	Name
}

// Nationalities are the catalogue's values in code order; a fresh slice.
func Nationalities() []Nationality {
	out := make([]Nationality, len(nationalityNames))
	for i, n := range nationalityNames {
		out[i] = Nationality{Code: n[0], Name: Name{VI: n[1], EN: n[2]}}
	}
	return out
}

// NationalityName is the name of nationality code (any case).
func NationalityName(code string) (Name, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	for _, n := range nationalityNames {
		if n[0] == code {
			return Name{VI: n[1], EN: n[2]}, true
		}
	}
	return Name{}, false
}

// nationalityNames are code, Vietnamese and English name of every code of
// nationalities: the country names of the Unicode CLDR (as
// golang.org/x/text/language/display has them; TestNationalityNames
// checks they still agree), and ICAO Doc 9303's own codes named by hand.
var nationalityNames = [][3]string{
	{"ABW", "Aruba", "Aruba"},
	{"AFG", "Afghanistan", "Afghanistan"},
	{"AGO", "Angola", "Angola"},
	{"AIA", "Anguilla", "Anguilla"},
	{"ALA", "Quần đảo Åland", "Åland Islands"},
	{"ALB", "Albania", "Albania"},
	{"AND", "Andorra", "Andorra"},
	{"ARE", "Các Tiểu Vương quốc Ả Rập Thống nhất", "United Arab Emirates"},
	{"ARG", "Argentina", "Argentina"},
	{"ARM", "Armenia", "Armenia"},
	{"ASM", "Đảo Somoa thuộc Mỹ", "American Samoa"},
	{"ATA", "Nam Cực", "Antarctica"},
	{"ATF", "Lãnh thổ phía Nam Thuộc Pháp", "French Southern Territories"},
	{"ATG", "Antigua và Barbuda", "Antigua & Barbuda"},
	{"AUS", "Australia", "Australia"},
	{"AUT", "Áo", "Austria"},
	{"AZE", "Azerbaijan", "Azerbaijan"},
	{"BDI", "Burundi", "Burundi"},
	{"BEL", "Bỉ", "Belgium"},
	{"BEN", "Benin", "Benin"},
	{"BES", "Ca-ri-bê Hà Lan", "Caribbean Netherlands"},
	{"BFA", "Burkina Faso", "Burkina Faso"},
	{"BGD", "Bangladesh", "Bangladesh"},
	{"BGR", "Bulgaria", "Bulgaria"},
	{"BHR", "Bahrain", "Bahrain"},
	{"BHS", "Bahamas", "Bahamas"},
	{"BIH", "Bosnia và Herzegovina", "Bosnia & Herzegovina"},
	{"BLM", "St. Barthélemy", "St. Barthélemy"},
	{"BLR", "Belarus", "Belarus"},
	{"BLZ", "Belize", "Belize"},
	{"BMU", "Bermuda", "Bermuda"},
	{"BOL", "Bolivia", "Bolivia"},
	{"BRA", "Brazil", "Brazil"},
	{"BRB", "Barbados", "Barbados"},
	{"BRN", "Brunei", "Brunei"},
	{"BTN", "Bhutan", "Bhutan"},
	{"BVT", "Đảo Bouvet", "Bouvet Island"},
	{"BWA", "Botswana", "Botswana"},
	{"CAF", "Cộng hòa Trung Phi", "Central African Republic"},
	{"CAN", "Canada", "Canada"},
	{"CCK", "Quần đảo Cocos (Keeling)", "Cocos (Keeling) Islands"},
	{"CHE", "Thụy Sĩ", "Switzerland"},
	{"CHL", "Chile", "Chile"},
	{"CHN", "Trung Quốc", "China"},
	{"CIV", "Côte d’Ivoire", "Côte d’Ivoire"},
	{"CMR", "Cameroon", "Cameroon"},
	{"COD", "Congo - Kinshasa", "Congo - Kinshasa"},
	{"COG", "Congo - Brazzaville", "Congo - Brazzaville"},
	{"COK", "Quần đảo Cook", "Cook Islands"},
	{"COL", "Colombia", "Colombia"},
	{"COM", "Comoros", "Comoros"},
	{"CPV", "Cape Verde", "Cape Verde"},
	{"CRI", "Costa Rica", "Costa Rica"},
	{"CUB", "Cuba", "Cuba"},
	{"CUW", "Curaçao", "Curaçao"},
	{"CXR", "Đảo Giáng Sinh", "Christmas Island"},
	{"CYM", "Quần đảo Cayman", "Cayman Islands"},
	{"CYP", "Síp", "Cyprus"},
	{"CZE", "Séc", "Czechia"},
	{"DEU", "Đức", "Germany"},
	{"DJI", "Djibouti", "Djibouti"},
	{"DMA", "Dominica", "Dominica"},
	{"DNK", "Đan Mạch", "Denmark"},
	{"DOM", "Cộng hòa Dominica", "Dominican Republic"},
	{"DZA", "Algeria", "Algeria"},
	{"ECU", "Ecuador", "Ecuador"},
	{"EGY", "Ai Cập", "Egypt"},
	{"ERI", "Eritrea", "Eritrea"},
	{"ESH", "Tây Sahara", "Western Sahara"},
	{"ESP", "Tây Ban Nha", "Spain"},
	{"EST", "Estonia", "Estonia"},
	{"ETH", "Ethiopia", "Ethiopia"},
	{"FIN", "Phần Lan", "Finland"},
	{"FJI", "Fiji", "Fiji"},
	{"FLK", "Quần đảo Falkland", "Falkland Islands"},
	{"FRA", "Pháp", "France"},
	{"FRO", "Quần đảo Faroe", "Faroe Islands"},
	{"FSM", "Micronesia", "Micronesia"},
	{"GAB", "Gabon", "Gabon"},
	{"GBR", "Vương quốc Anh", "United Kingdom"},
	{"GEO", "Gruzia", "Georgia"},
	{"GGY", "Guernsey", "Guernsey"},
	{"GHA", "Ghana", "Ghana"},
	{"GIB", "Gibraltar", "Gibraltar"},
	{"GIN", "Guinea", "Guinea"},
	{"GLP", "Guadeloupe", "Guadeloupe"},
	{"GMB", "Gambia", "Gambia"},
	{"GNB", "Guinea-Bissau", "Guinea-Bissau"},
	{"GNQ", "Guinea Xích Đạo", "Equatorial Guinea"},
	{"GRC", "Hy Lạp", "Greece"},
	{"GRD", "Grenada", "Grenada"},
	{"GRL", "Greenland", "Greenland"},
	{"GTM", "Guatemala", "Guatemala"},
	{"GUF", "Guiana thuộc Pháp", "French Guiana"},
	{"GUM", "Guam", "Guam"},
	{"GUY", "Guyana", "Guyana"},
	{"HKG", "Hồng Kông, Trung Quốc", "Hong Kong SAR China"},
	{"HMD", "Quần đảo Heard và McDonald", "Heard & McDonald Islands"},
	{"HND", "Honduras", "Honduras"},
	{"HRV", "Croatia", "Croatia"},
	{"HTI", "Haiti", "Haiti"},
	{"HUN", "Hungary", "Hungary"},
	{"IDN", "Indonesia", "Indonesia"},
	{"IMN", "Đảo Man", "Isle of Man"},
	{"IND", "Ấn Độ", "India"},
	{"IOT", "Lãnh thổ Ấn độ dương thuộc Anh", "British Indian Ocean Territory"},
	{"IRL", "Ireland", "Ireland"},
	{"IRN", "Iran", "Iran"},
	{"IRQ", "Iraq", "Iraq"},
	{"ISL", "Iceland", "Iceland"},
	{"ISR", "Israel", "Israel"},
	{"ITA", "Italy", "Italy"},
	{"JAM", "Jamaica", "Jamaica"},
	{"JEY", "Jersey", "Jersey"},
	{"JOR", "Jordan", "Jordan"},
	{"JPN", "Nhật Bản", "Japan"},
	{"KAZ", "Kazakhstan", "Kazakhstan"},
	{"KEN", "Kenya", "Kenya"},
	{"KGZ", "Kyrgyzstan", "Kyrgyzstan"},
	{"KHM", "Campuchia", "Cambodia"},
	{"KIR", "Kiribati", "Kiribati"},
	{"KNA", "St. Kitts và Nevis", "St. Kitts & Nevis"},
	{"KOR", "Hàn Quốc", "South Korea"},
	{"KWT", "Kuwait", "Kuwait"},
	{"LAO", "Lào", "Laos"},
	{"LBN", "Li-băng", "Lebanon"},
	{"LBR", "Liberia", "Liberia"},
	{"LBY", "Libya", "Libya"},
	{"LCA", "St. Lucia", "St. Lucia"},
	{"LIE", "Liechtenstein", "Liechtenstein"},
	{"LKA", "Sri Lanka", "Sri Lanka"},
	{"LSO", "Lesotho", "Lesotho"},
	{"LTU", "Litva", "Lithuania"},
	{"LUX", "Luxembourg", "Luxembourg"},
	{"LVA", "Latvia", "Latvia"},
	{"MAC", "Macao, Trung Quốc", "Macau SAR China"},
	{"MAF", "St. Martin", "St. Martin"},
	{"MAR", "Ma-rốc", "Morocco"},
	{"MCO", "Monaco", "Monaco"},
	{"MDA", "Moldova", "Moldova"},
	{"MDG", "Madagascar", "Madagascar"},
	{"MDV", "Maldives", "Maldives"},
	{"MEX", "Mexico", "Mexico"},
	{"MHL", "Quần đảo Marshall", "Marshall Islands"},
	{"MKD", "Macedonia", "Macedonia"},
	{"MLI", "Mali", "Mali"},
	{"MLT", "Malta", "Malta"},
	{"MMR", "Myanmar (Miến Điện)", "Myanmar (Burma)"},
	{"MNE", "Montenegro", "Montenegro"},
	{"MNG", "Mông Cổ", "Mongolia"},
	{"MNP", "Quần đảo Bắc Mariana", "Northern Mariana Islands"},
	{"MOZ", "Mozambique", "Mozambique"},
	{"MRT", "Mauritania", "Mauritania"},
	{"MSR", "Montserrat", "Montserrat"},
	{"MTQ", "Martinique", "Martinique"},
	{"MUS", "Mauritius", "Mauritius"},
	{"MWI", "Malawi", "Malawi"},
	{"MYS", "Malaysia", "Malaysia"},
	{"MYT", "Mayotte", "Mayotte"},
	{"NAM", "Namibia", "Namibia"},
	{"NCL", "New Caledonia", "New Caledonia"},
	{"NER", "Niger", "Niger"},
	{"NFK", "Đảo Norfolk", "Norfolk Island"},
	{"NGA", "Nigeria", "Nigeria"},
	{"NIC", "Nicaragua", "Nicaragua"},
	{"NIU", "Niue", "Niue"},
	{"NLD", "Hà Lan", "Netherlands"},
	{"NOR", "Na Uy", "Norway"},
	{"NPL", "Nepal", "Nepal"},
	{"NRU", "Nauru", "Nauru"},
	{"NZL", "New Zealand", "New Zealand"},
	{"OMN", "Oman", "Oman"},
	{"PAK", "Pakistan", "Pakistan"},
	{"PAN", "Panama", "Panama"},
	{"PCN", "Quần đảo Pitcairn", "Pitcairn Islands"},
	{"PER", "Peru", "Peru"},
	{"PHL", "Philippines", "Philippines"},
	{"PLW", "Palau", "Palau"},
	{"PNG", "Papua New Guinea", "Papua New Guinea"},
	{"POL", "Ba Lan", "Poland"},
	{"PRI", "Puerto Rico", "Puerto Rico"},
	{"PRK", "Triều Tiên", "North Korea"},
	{"PRT", "Bồ Đào Nha", "Portugal"},
	{"PRY", "Paraguay", "Paraguay"},
	{"PSE", "Lãnh thổ Palestine", "Palestinian Territories"},
	{"PYF", "Polynesia thuộc Pháp", "French Polynesia"},
	{"QAT", "Qatar", "Qatar"},
	{"REU", "Réunion", "Réunion"},
	{"ROU", "Romania", "Romania"},
	{"RUS", "Nga", "Russia"},
	{"RWA", "Rwanda", "Rwanda"},
	{"SAU", "Ả Rập Xê-út", "Saudi Arabia"},
	{"SDN", "Sudan", "Sudan"},
	{"SEN", "Senegal", "Senegal"},
	{"SGP", "Singapore", "Singapore"},
	{"SGS", "Nam Georgia & Quần đảo Nam Sandwich", "South Georgia & South Sandwich Islands"},
	{"SHN", "St. Helena", "St. Helena"},
	{"SJM", "Svalbard và Jan Mayen", "Svalbard & Jan Mayen"},
	{"SLB", "Quần đảo Solomon", "Solomon Islands"},
	{"SLE", "Sierra Leone", "Sierra Leone"},
	{"SLV", "El Salvador", "El Salvador"},
	{"SMR", "San Marino", "San Marino"},
	{"SOM", "Somalia", "Somalia"},
	{"SPM", "Saint Pierre và Miquelon", "St. Pierre & Miquelon"},
	{"SRB", "Serbia", "Serbia"},
	{"SSD", "Nam Sudan", "South Sudan"},
	{"STP", "São Tomé và Príncipe", "São Tomé & Príncipe"},
	{"SUR", "Suriname", "Suriname"},
	{"SVK", "Slovakia", "Slovakia"},
	{"SVN", "Slovenia", "Slovenia"},
	{"SWE", "Thụy Điển", "Sweden"},
	{"SWZ", "Swaziland", "Swaziland"},
	{"SXM", "Sint Maarten", "Sint Maarten"},
	{"SYC", "Seychelles", "Seychelles"},
	{"SYR", "Syria", "Syria"},
	{"TCA", "Quần đảo Turks và Caicos", "Turks & Caicos Islands"},
	{"TCD", "Chad", "Chad"},
	{"TGO", "Togo", "Togo"},
	{"THA", "Thái Lan", "Thailand"},
	{"TJK", "Tajikistan", "Tajikistan"},
	{"TKL", "Tokelau", "Tokelau"},
	{"TKM", "Turkmenistan", "Turkmenistan"},
	{"TLS", "Timor-Leste", "Timor-Leste"},
	{"TON", "Tonga", "Tonga"},
	{"TTO", "Trinidad và Tobago", "Trinidad & Tobago"},
	{"TUN", "Tunisia", "Tunisia"},
	{"TUR", "Thổ Nhĩ Kỳ", "Turkey"},
	{"TUV", "Tuvalu", "Tuvalu"},
	{"TWN", "Đài Loan", "Taiwan"},
	{"TZA", "Tanzania", "Tanzania"},
	{"UGA", "Uganda", "Uganda"},
	{"UKR", "Ukraina", "Ukraine"},
	{"UMI", "Các tiểu đảo xa của Hoa Kỳ", "U.S. Outlying Islands"},
	{"URY", "Uruguay", "Uruguay"},
	{"USA", "Hoa Kỳ", "United States"},
	{"UZB", "Uzbekistan", "Uzbekistan"},
	{"VAT", "Thành Vatican", "Vatican City"},
	{"VCT", "St. Vincent và Grenadines", "St. Vincent & Grenadines"},
	{"VEN", "Venezuela", "Venezuela"},
	{"VGB", "Quần đảo Virgin thuộc Anh", "British Virgin Islands"},
	{"VIR", "Quần đảo Virgin thuộc Mỹ", "U.S. Virgin Islands"},
	{"VNM", "Việt Nam", "Vietnam"},
	{"VUT", "Vanuatu", "Vanuatu"},
	{"WLF", "Wallis và Futuna", "Wallis & Futuna"},
	{"WSM", "Samoa", "Samoa"},
	{"YEM", "Yemen", "Yemen"},
	{"ZAF", "Nam Phi", "South Africa"},
	{"ZMB", "Zambia", "Zambia"},
	{"ZWE", "Zimbabwe", "Zimbabwe"},
	// ICAO Doc 9303's codes, which CLDR does not name.
	{"XXA", "Không quốc tịch", "Stateless person"},
	{"XXB", "Người tị nạn (Công ước 1951)", "Refugee (1951 Convention)"},
	{"XXC", "Người tị nạn (khác)", "Refugee (other)"},
	{"XXX", "Không xác định", "Unspecified nationality"},
}
