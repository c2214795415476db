// Package ingest reads the datasets partners upload for reconciliation: CSV
// with any of the usual delimiters or JSON Lines, in UTF-8 (with or without
// byte-order mark), UTF-16, Windows-1258 or TCVN3, with column names in
// Vietnamese or English. Bad rows are reported one by one with their line
// number and do not stop the file; only a file that cannot be read at all
// (empty, binary, required columns missing) is refused as a whole.
//
// Reading can resume in the middle of a file: every row tells the Position
// after it, and a Parser started at that Position with the same Header
// continues exactly there. Reconciliation jobs checkpoint on it.
package ingest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/match"
)

// Format of a file.
type Format string

// Formats.
const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
)

// Header is what the first line of a file says about the rest: the format,
// the delimiter and which column holds which field. It is stored with a job
// so any node can resume parsing.
type Header struct {
	Format    Format `json:"format"`
	Delimiter string `json:"delimiter,omitempty"` // CSV: one of , ; \t |
	// Columns maps a field to its CSV column index.
	Columns map[string]int `json:"columns,omitempty"`
	// Width is the number of CSV columns every row must have.
	Width int `json:"width,omitempty"`
	// Ignored are column names that map to no field (shown to the uploader).
	Ignored []string `json:"ignored,omitempty"`
	// Start is where the first data row begins.
	Start Position `json:"start"`
}

// Position is a place between two rows of a file.
type Position struct {
	Offset int64 `json:"offset"` // bytes of the decoded (UTF-8) text before it
	Line   int64 `json:"line"`   // number of the next line, from 1
	Row    int64 `json:"row"`    // data rows before it
}

// Row is one data row.
type Row struct {
	Num    int64 // data row number, from 1
	Line   int64 // line of the file where the row starts, from 1
	End    Position
	Record match.Record
	// Err is the row's problem, if any; Record is then unusable.
	Err *fault.Error
}

// Key identifies a row's content for spotting duplicates: rows whose
// fields are equal up to case and spacing share it.
func (r Row) Key() string {
	h := sha256.New()
	for _, s := range []string{r.Record.Ref, r.Record.PIN, r.Record.CardNumber, r.Record.FullName, r.Record.BirthDate,
		r.Record.Sex, r.Record.Address, r.Record.Commune} {
		h.Write([]byte(strings.ToLower(strings.Join(strings.Fields(s), " "))))
		h.Write([]byte{0x1f})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Row faults. Their codes are part of the partner API.
var (
	ErrQuote       = fault.New(fault.Invalid, "reconcile.row.quote", "Dấu ngoặc kép không đóng hoặc đặt sai chỗ.", "A quote is not closed or is out of place.")
	ErrFieldCount  = fault.New(fault.Invalid, "reconcile.row.field_count", "Số cột của dòng khác với dòng tiêu đề (có thể sai dấu phân cách).", "The row has a different number of columns than the header (maybe a wrong delimiter).")
	ErrRowTooLong  = fault.New(fault.Invalid, "reconcile.row.too_long", "Dòng quá dài (tối đa 64 KB).", "The row is too long (at most 64 KB).")
	ErrRowEncoding = fault.New(fault.Invalid, "reconcile.row.encoding", "Dòng có ký tự không đọc được (sai bảng mã).", "The row has unreadable characters (wrong encoding).")
	ErrRowJSON     = fault.New(fault.Invalid, "reconcile.row.json", "Dòng không phải một đối tượng JSON hợp lệ.", "The line is not a valid JSON object.")
	ErrRowNoName   = fault.New(fault.Invalid, "reconcile.row.name_missing", "Dòng không có họ tên.", "The row has no name.")
	ErrNoHeader    = fault.New(fault.Invalid, "reconcile.file.header", "Không đọc được dòng tiêu đề (tên các cột).", "The header line (column names) cannot be read.")
)

// Limits.
const (
	maxRow      = 64 << 10 // bytes of one row
	maxRowLines = 8        // lines one quoted CSV row may span
)

// Delimiters tried, in order of preference on a tie.
var delimiters = []byte{',', ';', '\t', '|'}

// ReadHeader reads the header of a decoded (UTF-8) file from its first
// bytes. format and delim may be zero to detect them.
func ReadHeader(sample []byte, format Format, delim byte) (Header, error) {
	trimmed := bytes.TrimLeft(sample, " \t\r\n")
	if len(trimmed) == 0 {
		return Header{}, ErrEmpty
	}
	if format == "" {
		format = CSV
		if trimmed[0] == '{' {
			format = JSONL
		}
	}
	if format == JSONL {
		return jsonHeader(sample)
	}
	if delim != 0 {
		return csvHeader(sample, delim)
	}
	// Pick the delimiter under which the header names the most known
	// columns; on a tie, the one under which most of the next lines have
	// the header's width.
	var best Header
	var bestErr error = ErrNoHeader
	bestScore := -1
	for _, d := range delimiters {
		h, err := csvHeader(sample, d)
		known := len(h.Columns)
		if known == 0 {
			continue
		}
		score := known*1000 + consistency(sample, h)
		if err == nil {
			score += 1_000_000
		}
		if score > bestScore {
			best, bestErr, bestScore = h, err, score
		}
	}
	if bestScore < 0 {
		return Header{}, ErrMissingColumns.WithField(FieldFullName)
	}
	return best, bestErr
}

// consistency counts how many of the first rows after the header have the
// header's width.
func consistency(sample []byte, h Header) int {
	p := NewParser(bytes.NewReader(sample[h.Start.Offset:]), h, Position{Line: h.Start.Line})
	n := 0
	for i := 0; i < 50; i++ {
		r, err := p.Next()
		if err != nil {
			break
		}
		if r.Err == nil {
			n++
		}
	}
	return n
}

func csvHeader(sample []byte, delim byte) (Header, error) {
	h := Header{Format: CSV, Delimiter: string(delim), Columns: map[string]int{}}
	p := NewParser(bytes.NewReader(sample), h, Position{Line: 1})
	first, err := p.readLogical()
	if err != nil {
		return Header{}, ErrEmpty
	}
	fields, _, bad := p.splitCSV(first)
	if bad != nil {
		return Header{}, ErrNoHeader
	}
	h.Width = len(fields)
	dup := false
	for i, name := range fields {
		f := FieldOf(name)
		if f == "" {
			if strings.TrimSpace(name) != "" {
				h.Ignored = append(h.Ignored, strings.TrimSpace(name))
			}
			continue
		}
		if _, seen := h.Columns[f]; seen {
			dup = true
			continue
		}
		h.Columns[f] = i
	}
	h.Start = p.pos()
	if dup {
		return h, ErrDuplicateColumn
	}
	return h, checkFields(func(f string) bool { _, ok := h.Columns[f]; return ok })
}

func jsonHeader(sample []byte) (Header, error) {
	h := Header{Format: JSONL}
	p := NewParser(bytes.NewReader(sample), h, Position{Line: 1})
	first, err := p.readLogical()
	if err != nil {
		return Header{}, ErrEmpty
	}
	obj, ok := decodeObject(first.text)
	if !ok {
		return Header{}, ErrRowJSON.WithField("line 1")
	}
	present := map[string]bool{}
	for k := range obj {
		if f := FieldOf(k); f != "" {
			present[f] = true
		} else {
			h.Ignored = append(h.Ignored, k)
		}
	}
	// A JSON Lines file has no header line: the first object is data.
	h.Start = Position{Line: 1}
	return h, checkFields(func(f string) bool { return present[f] })
}

// Parser reads the data rows of a decoded file.
type Parser struct {
	h       Header
	delim   byte
	src     *bufio.Reader
	off     int64 // offset of the next byte read from src
	line    int64 // line number of the next line read from src
	row     int64
	pending []rawLine // lines read ahead and given back after a bad row
	keys    map[string]string
}

type rawLine struct {
	text    []byte // without the line end
	line    int64
	start   int64 // offset of the line's first byte
	tooLong bool
}

// NewParser reads rows from r, which starts at pos of a file with header h.
func NewParser(r io.Reader, h Header, pos Position) *Parser {
	p := &Parser{h: h, src: bufio.NewReaderSize(r, 64<<10), off: pos.Offset, line: max(pos.Line, 1), row: pos.Row,
		keys: map[string]string{}}
	if h.Delimiter != "" {
		p.delim = h.Delimiter[0]
	}
	return p
}

// pos is the position after everything consumed.
func (p *Parser) pos() Position {
	if len(p.pending) > 0 {
		l := p.pending[0]
		return Position{Offset: l.start, Line: l.line, Row: p.row}
	}
	return Position{Offset: p.off, Line: p.line, Row: p.row}
}

// readLine reads one physical line.
func (p *Parser) readLine() (rawLine, error) {
	if len(p.pending) > 0 {
		l := p.pending[0]
		p.pending = p.pending[1:]
		return l, nil
	}
	l := rawLine{line: p.line, start: p.off}
	var buf []byte
	for {
		chunk, err := p.src.ReadSlice('\n')
		p.off += int64(len(chunk))
		if !l.tooLong {
			if len(buf)+len(chunk) > maxRow+2 {
				l.tooLong = true
				buf = nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && len(chunk) == 0 && len(buf) == 0 && !l.tooLong {
			return rawLine{}, io.EOF
		}
		break
	}
	p.line++
	buf = bytes.TrimSuffix(buf, []byte{'\n'})
	buf = bytes.TrimSuffix(buf, []byte{'\r'})
	l.text = buf
	return l, nil
}

// readLogical skips blank lines and returns the next non-blank one.
func (p *Parser) readLogical() (rawLine, error) {
	for {
		l, err := p.readLine()
		if err != nil {
			return l, err
		}
		if l.tooLong || len(bytes.TrimSpace(l.text)) > 0 {
			return l, nil
		}
	}
}

// Next returns the next data row, or io.EOF after the last. A bad row is
// returned with Err set; reading goes on with the following line.
func (p *Parser) Next() (Row, error) {
	first, err := p.readLogical()
	if err != nil {
		return Row{}, err
	}
	p.row++
	row := Row{Num: p.row, Line: first.line}
	if first.tooLong {
		row.Err = ErrRowTooLong
		row.End = p.pos()
		return row, nil
	}
	if p.h.Format == JSONL {
		row.Record, row.Err = p.jsonRecord(first.text)
	} else {
		fields, lines, bad := p.splitCSV(first)
		switch {
		case bad != nil:
			// Give back the lines after the first so a broken quote costs
			// one row, not the rest of the file.
			p.pending = append(lines[1:], p.pending...)
			row.Err = bad
		case len(fields) != p.h.Width:
			p.pending = append(lines[1:], p.pending...)
			row.Err = ErrFieldCount
		default:
			row.Record, row.Err = p.csvRecord(fields)
		}
	}
	row.End = p.pos()
	if row.Err == nil && row.Record.FullName == "" {
		row.Err = ErrRowNoName
	}
	return row, nil
}

// splitCSV splits a row that starts on line first into fields; a quoted
// field may continue on the next lines. It returns the lines it used.
func (p *Parser) splitCSV(first rawLine) ([]string, []rawLine, *fault.Error) {
	lines := []rawLine{first}
	buf, i := first.text, 0
	var fields []string
	var field []byte
	for {
		if i < len(buf) && buf[i] == '"' {
			i++
			field = field[:0]
			for {
				j := bytes.IndexByte(buf[i:], '"')
				if j < 0 {
					field = append(field, buf[i:]...)
					if len(lines) >= maxRowLines || len(field) > maxRow {
						return nil, lines, ErrQuote
					}
					next, err := p.readLine()
					if err != nil || next.tooLong {
						if err == nil {
							lines = append(lines, next)
						}
						return nil, lines, ErrQuote
					}
					lines = append(lines, next)
					field = append(field, '\n')
					buf, i = next.text, 0
					continue
				}
				field = append(field, buf[i:i+j]...)
				i += j + 1
				if i < len(buf) && buf[i] == '"' {
					field = append(field, '"')
					i++
					continue
				}
				break
			}
			for i < len(buf) && buf[i] == ' ' { // spaces after a closing quote are harmless
				i++
			}
			fields = append(fields, string(field))
			if i == len(buf) {
				return fields, lines, nil
			}
			if buf[i] != p.delim {
				return nil, lines, ErrQuote
			}
			i++
			continue
		}
		j := bytes.IndexByte(buf[i:], p.delim)
		if j < 0 {
			fields = append(fields, string(buf[i:]))
			return fields, lines, nil
		}
		fields = append(fields, string(buf[i:i+j]))
		i += j + 1
	}
}

func (p *Parser) csvRecord(fields []string) (match.Record, *fault.Error) {
	get := func(f string) string {
		if i, ok := p.h.Columns[f]; ok && i < len(fields) {
			return strings.TrimSpace(fields[i])
		}
		return ""
	}
	return record(get)
}

func record(get func(string) string) (match.Record, *fault.Error) {
	r := match.Record{
		Ref: get(FieldRef), PIN: get(FieldPIN), CardNumber: get(FieldCardNumber), FullName: get(FieldFullName),
		BirthDate: get(FieldBirthDate), Sex: get(FieldSex), Address: get(FieldAddress), Commune: get(FieldCommune),
	}
	for _, s := range []string{r.Ref, r.PIN, r.CardNumber, r.FullName, r.BirthDate, r.Sex, r.Address, r.Commune} {
		if strings.ContainsRune(s, utf8.RuneError) {
			return match.Record{}, ErrRowEncoding
		}
	}
	return r, nil
}

func (p *Parser) jsonRecord(line []byte) (match.Record, *fault.Error) {
	obj, ok := decodeObject(line)
	if !ok {
		return match.Record{}, ErrRowJSON
	}
	vals := map[string]string{}
	for k, v := range obj {
		f, ok := p.keys[k]
		if !ok {
			f = FieldOf(k)
			if len(p.keys) < 1000 {
				p.keys[k] = f
			}
		}
		if f == "" {
			continue
		}
		if _, dup := vals[f]; dup {
			continue
		}
		s, ok := scalar(v)
		if !ok {
			return match.Record{}, ErrRowJSON
		}
		vals[f] = strings.TrimSpace(s)
	}
	return record(func(f string) string { return vals[f] })
}

func decodeObject(line []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // trailing garbage
	}
	return obj, true
}

// scalar turns a JSON value into text; numbers keep their digits as
// written (a PIN sent as a number has lost its leading zeros, which the
// matcher then reports as a PIN difference).
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}
